#include "policy/checks/account_check.hpp"

#include <algorithm>
#include <set>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "message/author.hpp"
#include "policy/header_lookup.hpp"
#include "util/ascii.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::policy {

namespace {

class AccountRun final : public CheckRun {
  public:
    explicit AccountRun(const AccountCheck& check) : check_(check) {}
    Decision on(Stage stage, Transaction& tx) override {
        if (stage == Stage::Rcpt) {
            ++tried_;
            return Decision::none();
        }
        if (stage == Stage::EndOfMessage) {
            return check_.decide(tx, tried_);
        }
        return Decision::none();
    }

  private:
    const AccountCheck& check_;
    std::uint64_t tried_ = 0;
};

std::string utc(util::SystemTime t) {
    return fmt::format("{:%Y-%m-%d %H:%M} UTC", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace

namespace {

ratelimit::SignalThreshold threshold(const config::AccountSignalConfig& c) {
    return {c.min, c.multiple, c.floor, c.percent, c.points};
}

}  // namespace

util::Result<AccountCheckSettings> account_check_settings(const config::AccountsConfig& c) {
    AccountCheckSettings s;
    s.tracking.window = c.window;
    s.tracking.half_life = c.half_life;
    s.tracking.idle_ttl = c.idle_ttl;
    s.tracking.held_ttl = std::max(c.idle_ttl, s.tracking.held_ttl);
    s.tracking.sender_ttl = c.sender_ttl;
    s.tracking.known_domains = c.known_domains;
    s.tracking.tracked_client_ips = c.tracked_client_ips;
    s.detector.hold_score = c.hold_score;
    s.detector.volume = threshold(c.volume);
    s.detector.client_ips = threshold(c.client_ips);
    s.detector.client_networks = threshold(c.client_networks);
    s.detector.new_domains = threshold(c.new_domains);
    s.detector.refused_recipients = threshold(c.refused_recipients);
    s.detector.bounces = threshold(c.bounces);
    s.detector.new_from_domains = threshold(c.new_from_domains);
    s.action = c.action == "tempfail" ? HeldAction::Tempfail : HeldAction::Quarantine;
    s.release_grace = c.release_grace;
    s.exempt_logins = c.exempt_logins;
    if (auto v = store::validate_tracking(s.tracking); !v) {
        return std::unexpected(v.error());
    }
    if (auto v = ratelimit::validate(s.detector); !v) {
        return std::unexpected(v.error());
    }
    return s;
}

AccountCheck::AccountCheck(std::shared_ptr<store::AccountStore> accounts,
                           AccountCheckSettings settings, std::shared_ptr<const util::Clock> clock)
    : accounts_(std::move(accounts)), settings_(std::move(settings)), clock_(std::move(clock)) {
    for (auto& login : settings_.exempt_logins) {
        login = util::to_lower(login);
    }
}

std::unique_ptr<CheckRun> AccountCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<AccountRun>(*this);
}

store::AccountActivity AccountCheck::activity_of(const Transaction& tx,
                                                 std::uint64_t recipients_tried) {
    store::AccountActivity a;
    a.messages = 1;
    a.recipients = tx.message.recipients.size();
    a.failed_recipients = recipients_tried > a.recipients ? recipients_tried - a.recipients : 0;
    if (tx.connection.client_ip) {
        const auto ip = tx.connection.client_ip->unmapped();
        const int bits = ip.is_v4() ? 24 : 64;
        a.client_ip_tag = store::account_tag(ip.to_string());
        a.client_net_tag = store::account_tag(util::Cidr::of(ip, bits).to_string());
    }
    std::set<std::string> domains;
    for (const auto& r : tx.message.recipients) {
        if (!r.domain.empty()) {
            domains.insert(util::to_lower(r.domain));
        }
    }
    for (const auto& d : domains) {
        if (a.recipient_domain_tags.size() < store::kMaxDomainsPerUpdate) {
            a.recipient_domain_tags.push_back(store::account_tag(d));
        } else {
            ++a.untracked_domains;
        }
    }
    const auto from = header_values(tx.message, "From");
    if (auto authors = message::author_domains(from)) {
        for (const auto& d : *authors) {
            if (a.from_domain_tags.size() < store::kMaxFromDomainsPerUpdate) {
                a.from_domain_tags.push_back(store::account_tag(d));
            }
        }
    }
    const auto sender = tx.message.mail_from.to_string();
    if (sender.size() <= store::kMaxLoginBytes) {
        a.sender = util::to_lower(sender);
    }
    return a;
}

Decision AccountCheck::decide(const Transaction& tx, std::uint64_t recipients_tried) const {
    const auto& login_text = tx.message.auth_login;
    if (login_text.empty()) {
        return Decision::none();
    }
    auto login = store::normalize_login(login_text);
    if (!login) {
        spdlog::warn("{}: account not tracked: {}", tx.queue_id_or_noqueue(),
                     login.error().describe());
        return Decision::none();
    }
    if (std::find(settings_.exempt_logins.begin(), settings_.exempt_logins.end(), *login) !=
        settings_.exempt_logins.end()) {
        return Decision::none();
    }
    const auto now = clock_->now();
    auto account =
        accounts_->record(*login, activity_of(tx, recipients_tried), settings_.tracking, now);
    if (!account) {
        spdlog::warn("{}: account activity of {} not recorded: {}", tx.queue_id_or_noqueue(),
                     *login, account.error().describe());
        return Decision::none();
    }
    if (account->state == store::AccountState::Held && account->hold) {
        return held_decision(*login, *account->hold, false);
    }
    if (now < account->release_grace_until) {
        return Decision::none();
    }
    const auto assessment =
        ratelimit::assess(*account, settings_.detector, settings_.tracking.window);
    if (!assessment.hold) {
        return Decision::none();
    }
    store::HoldInfo hold{"detector", assessment.reason(), now,
                         static_cast<double>(assessment.score),
                         assessment.figures(settings_.detector.hold_score)};
    auto held = accounts_->hold(*login, hold, settings_.tracking, now);
    if (!held) {
        spdlog::warn("{}: login {} not held: {}", tx.queue_id_or_noqueue(), *login,
                     held.error().describe());
        return Decision::none();
    }
    if (*held) {
        spdlog::warn("{}: login {} held by the compromised-account detector (score {}): {}",
                     tx.queue_id_or_noqueue(), *login, assessment.score, hold.reason);
    }
    return held_decision(*login, hold, *held);
}

Decision AccountCheck::held_decision(const std::string& login, const store::HoldInfo& hold,
                                     bool just_held) const {
    Decision d;
    d.action = settings_.action == HeldAction::Quarantine ? Action::Quarantine : Action::Tempfail;
    d.reason = fmt::format("login={} held{} by={} since={} score={} reason=\"{}\" figures={}",
                           login, just_held ? " now" : "", hold.by,
                           std::chrono::floor<std::chrono::seconds>(hold.since), hold.score,
                           hold.reason, hold.figures);
    if (d.action == Action::Tempfail) {
        auto reply = smtp::make_reply(
            451, "4.7.1",
            {fmt::format("Mail from your account {} is held for review since {}: it sent far "
                         "more than usual or from unusual places.",
                         login, utc(hold.since)),
             "Please contact your mail administrator; your messages can be sent again once "
             "the account is released."});
        if (reply) {
            d.reply = *reply;
        }
    }
    return d;
}

}  // namespace mailwarden::policy
