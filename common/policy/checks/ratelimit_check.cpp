#include "policy/checks/ratelimit_check.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace mailwarden::policy {

namespace {

class RateLimitRun final : public CheckRun {
  public:
    explicit RateLimitRun(const RateLimitCheck& check) : check_(check) {}
    Decision on(Stage stage, Transaction& tx) override { return check_.decide(stage, tx); }

  private:
    const RateLimitCheck& check_;
};

ratelimit::MessageFacts facts_of(Stage stage, const Transaction& tx) {
    ratelimit::MessageFacts f;
    f.direction = tx.message.direction == Direction::Outbound ? ratelimit::Direction::Outbound
                                                              : ratelimit::Direction::Inbound;
    f.login = tx.message.auth_login;
    f.sender = tx.message.mail_from.to_string();
    f.client_ip = tx.connection.client_ip;
    if (stage == Stage::Rcpt) {
        f.recipients.push_back(tx.current_rcpt.to_string());
    } else {
        for (const auto& r : tx.message.recipients) {
            f.recipients.push_back(r.to_string());
        }
    }
    return f;
}

Action action_of(ratelimit::Action a) {
    switch (a) {
        case ratelimit::Action::Reject:
            return Action::Reject;
        case ratelimit::Action::Quarantine:
            return Action::Quarantine;
        case ratelimit::Action::Tempfail:
            return Action::Tempfail;
    }
    return Action::Tempfail;
}

}  // namespace

RateLimitCheck::RateLimitCheck(std::shared_ptr<store::BucketStore> buckets,
                               std::vector<ratelimit::Rule> rules,
                               std::shared_ptr<const util::Clock> clock,
                               std::shared_ptr<ratelimit::OverrideCache> overrides)
    : buckets_(std::move(buckets)),
      limiter_(std::move(rules), *buckets_, std::move(overrides)),
      clock_(std::move(clock)) {}

std::unique_ptr<CheckRun> RateLimitCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<RateLimitRun>(*this);
}

Decision RateLimitCheck::decide(Stage stage, const Transaction& tx) const {
    if (stage != Stage::Rcpt && stage != Stage::EndOfMessage) {
        return Decision::none();
    }
    const auto limiter_stage =
        stage == Stage::Rcpt ? ratelimit::Stage::Recipient : ratelimit::Stage::EndOfMessage;
    auto result = limiter_.check(facts_of(stage, tx), limiter_stage, clock_->now());
    if (!result) {
        spdlog::warn("{}: rate limits not checked: {}", tx.queue_id_or_noqueue(),
                     result.error().describe());
        return Decision::none();
    }
    if (result->allowed || !result->refused) {
        return Decision::none();
    }
    const auto& limit = *result->refused;
    Decision d;
    d.action = action_of(result->action);
    d.reason =
        fmt::format("rule={} key={} used={} limit={}/{}s retry_at={:%Y-%m-%dT%H:%M:%SZ} source={}",
                    limit.rule, limit.usage.key, limit.usage.used, limit.window.limit,
                    std::chrono::duration_cast<std::chrono::seconds>(limit.window.period).count(),
                    std::chrono::floor<std::chrono::seconds>(result->retry_at), result->source);
    if (result->reply) {
        auto reply = smtp::make_reply(result->reply->code, result->reply->enhanced,
                                      smtp::split_reply_text(result->reply->text));
        if (reply) {
            d.reply = *reply;
        }
    }
    return d;
}

}  // namespace mailwarden::policy
