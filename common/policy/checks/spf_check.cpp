// spf_check.cpp - the SPF check at MAIL FROM; see spf_check.hpp.
#include "policy/checks/spf_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "auth/spf/received_spf.hpp"
#include "policy/verdict.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

namespace {

namespace spf = auth::spf;

/// The longest exp= text quoted in a reply; the rest is cut (it is the sender's text).
constexpr std::size_t kMaxExplanationInReply = 200;

class SpfRun final : public CheckRun {
  public:
    explicit SpfRun(const SpfCheck& check) : check_(check) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (stage != Stage::MailFrom) {
            return Decision::none();
        }
        const auto outcome = check_.evaluate(tx);
        if (!outcome) {
            return Decision::none();
        }
        tx.message.spf = *outcome;  // for the DMARC check (STYLE §6.2)
        return check_.decide(*outcome, tx);
    }

  private:
    const SpfCheck& check_;
};

std::string identity_word(const spf::Outcome& outcome) {
    return outcome.identity == spf::Identity::Helo ? "HELO name" : "domain";
}

std::string result_sentence(const spf::Outcome& outcome, const std::string& ip) {
    const std::string who = fmt::format("The {} {}", identity_word(outcome), outcome.domain);
    switch (outcome.result) {
        case spf::Result::Fail:
            return fmt::format("{} does not authorise {} to send its mail (SPF fail)", who, ip);
        case spf::Result::SoftFail:
            return fmt::format(
                "{} says {} is probably not allowed to send its mail "
                "(SPF softfail)",
                who, ip);
        case spf::Result::Neutral:
            return fmt::format("{} makes no statement about {} sending its mail (SPF neutral)", who,
                               ip);
        case spf::Result::None:
            return fmt::format(
                "{} publishes no SPF policy, which this server requires "
                "(SPF none)",
                who);
        case spf::Result::TempError:
            return fmt::format(
                "The SPF policy of {} could not be checked because of a "
                "temporary DNS error; please try again later (SPF temperror)",
                outcome.domain);
        case spf::Result::PermError:
            return fmt::format(
                "The SPF record of {} is broken ({}), so its mail cannot be "
                "verified (SPF permerror)",
                outcome.domain, outcome.trace.error);
        case spf::Result::Pass:
            return fmt::format("{} authorises {} to send its mail (SPF pass)", who, ip);
    }
    return {};
}

}  // namespace

SpfCheck::SpfCheck(std::shared_ptr<dns::Resolver> resolver,
                   std::shared_ptr<const util::Clock> clock, SpfCheckSettings settings,
                   std::shared_ptr<const auth::dmarc::Evaluator> dmarc)
    : resolver_(std::move(resolver)),
      clock_(std::move(clock)),
      settings_(std::move(settings)),
      dmarc_(std::move(dmarc)) {
    records_ = std::make_unique<spf::RecordCache>(*clock_, settings_.result_cache_max_entries);
    spf::Options options;
    options.default_explanation = "";  // only the domain's own exp= text goes into replies
    options.time_limit = settings_.time_limit;
    if (!settings_.authserv_id.empty()) {
        options.receiver = settings_.authserv_id;
    }
    evaluator_ = std::make_unique<spf::Evaluator>(*resolver_, *clock_, options, records_.get());
}

std::unique_ptr<CheckRun> SpfCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<SpfRun>(*this);
}

spf::Outcome SpfCheck::cached_check(const util::IpAddress& ip, bool helo_identity,
                                    std::string_view identity, std::string_view helo) const {
    const std::string key =
        fmt::format("{}\x1f{}\x1f{}\x1f{}", ip.to_string(), helo_identity ? 'h' : 'm',
                    util::to_lower(identity), util::to_lower(helo));
    const bool use_cache = settings_.result_cache_ttl > std::chrono::seconds::zero();
    if (use_cache) {
        std::lock_guard lock(mutex_);
        const auto it = results_.find(key);
        if (it != results_.end() && it->second.expires > clock_->now()) {
            return it->second.outcome;
        }
    }
    spf::Outcome outcome = helo_identity ? evaluator_->check_helo(ip, helo)
                                         : evaluator_->check_mail_from(ip, identity, helo);
    if (use_cache && outcome.result != spf::Result::TempError) {  // retry temperrors
        const auto now = clock_->now();
        std::lock_guard lock(mutex_);
        if (results_.size() >= settings_.result_cache_max_entries) {
            std::erase_if(results_, [&](const auto& kv) { return kv.second.expires <= now; });
            while (!results_.empty() && results_.size() >= settings_.result_cache_max_entries) {
                results_.erase(results_.begin());
            }
        }
        if (settings_.result_cache_max_entries > 0) {
            results_.insert_or_assign(key, CachedResult{outcome, now + settings_.result_cache_ttl});
        }
    }
    return outcome;
}

std::optional<spf::Outcome> SpfCheck::evaluate(const Transaction& tx) const {
    if (!tx.connection.client_ip) {
        return std::nullopt;  // local submission: there is no client to check
    }
    if (tx.message.direction == Direction::Outbound && !settings_.check_outbound) {
        return std::nullopt;
    }
    const util::IpAddress& ip = *tx.connection.client_ip;
    const std::string& helo = tx.connection.helo;
    if (settings_.check_helo && !helo.empty()) {
        // RFC 7208 §2.3: a conclusive HELO result spares the MAIL FROM evaluation.
        auto by_helo = cached_check(ip, true, helo, helo);
        if (by_helo.result == spf::Result::Pass || by_helo.result == spf::Result::Fail) {
            return by_helo;
        }
    }
    const smtp::Address& from = tx.message.mail_from;
    if (from.is_null() || from.domain.empty()) {
        return cached_check(ip, true, helo, helo);  // RFC 7208 §2.4: null reverse-path
    }
    return cached_check(ip, false, from.to_string(), helo);
}

SpfCheck::DmarcStance SpfCheck::dmarc_stance(std::string_view domain) const {
    if (!dmarc_) {
        return DmarcStance::None;  // no DMARC check runs that could decide instead
    }
    const auto policy = dmarc_->discover_policy(domain);
    if (policy.result == auth::dmarc::Result::TempError) {
        return DmarcStance::Unknown;
    }
    if (!policy.record) {
        return DmarcStance::None;
    }
    return policy.policy == auth::dmarc::Policy::None ? DmarcStance::None : DmarcStance::Enforcing;
}

Decision SpfCheck::decide(const spf::Outcome& outcome, const Transaction& tx) const {
    Decision d;
    const std::string ip =
        tx.connection.client_ip ? tx.connection.client_ip->to_string() : std::string("local");
    d.reason = fmt::format("SPF {} for {} {} from {}: {}", to_string(outcome.result),
                           to_string(outcome.identity), outcome.domain, ip, outcome.short_trace());
    if (settings_.add_received_spf_header && tx.connection.client_ip) {
        const std::string receiver = !settings_.authserv_id.empty() ? settings_.authserv_id
                                     : !tx.connection.mta_hostname.empty()
                                         ? tx.connection.mta_hostname
                                         : std::string("localhost");
        const std::string envelope = tx.message.mail_from.to_string();
        d.headers.push_back(
            HeaderEdit{HeaderEdit::Kind::Insert, "Received-SPF",
                       spf::received_spf_value(
                           outcome, spf::ReceivedSpfContext{*tx.connection.client_ip, envelope,
                                                            tx.connection.helo, receiver}),
                       0});
    }
    Action action = Action::Continue;
    if (const auto it = settings_.actions.find(outcome.result); it != settings_.actions.end()) {
        action = it->second;
    }
    bool dmarc_unknown = false;
    if (outcome.result == spf::Result::Fail && is_refusal(action) &&
        settings_.defer_fail_to_dmarc && outcome.identity == spf::Identity::MailFrom) {
        switch (dmarc_stance(outcome.domain)) {
            case DmarcStance::Enforcing:
                action = Action::Continue;
                d.reason += "; not refused: the domain's DMARC policy decides";
                break;
            case DmarcStance::Unknown:
                // Rejecting on incomplete data becomes a tempfail (STYLE §6.2).
                action = Action::Tempfail;
                dmarc_unknown = true;
                d.reason += "; deferred: the domain's DMARC policy could not be looked up";
                break;
            case DmarcStance::None:
                break;
        }
    }
    d.action = action;
    d.warn_only = settings_.warn_only;
    if (!is_refusal(action)) {
        return d;
    }
    const bool temp = action == Action::Tempfail;
    const bool error =
        outcome.result == spf::Result::TempError || outcome.result == spf::Result::PermError;
    const int code = temp ? 451 : 550;
    // RFC 7372 §3.2: X.7.23 SPF validation failed, X.7.24 SPF validation error.
    const std::string enhanced = fmt::format("{}.7.{}", temp ? 4 : 5, error ? 24 : 23);
    std::vector<std::string> lines{result_sentence(outcome, ip)};
    if (dmarc_unknown) {
        lines.push_back(
            fmt::format("Its DMARC policy could not be looked up; please try again "
                        "later"));
    }
    if (!outcome.explanation.empty()) {
        std::string exp = outcome.explanation.substr(0, kMaxExplanationInReply);
        lines.push_back(fmt::format("{} explains: {}", outcome.domain, exp));
    }
    auto reply = smtp::make_reply(code, enhanced, lines);
    d.reply = reply ? *reply : default_reply(action);
    return d;
}

}  // namespace mailwarden::policy
