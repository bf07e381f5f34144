// limiter.hpp - applies the rate-limit rules to one message: builds the buckets of every
// applicable rule and window, asks the BucketStore once (one Redis round trip), and says
// which limit refused and what to tell the sender.
//
// Stages: at RCPT (facts.recipients = the one recipient being added) the rules counting
// recipients and the rules keyed on the recipient are charged one unit; at end of message
// the other rules (counting messages) are charged one unit. A recipient or message that
// is refused is not charged anywhere. Modelled on Envoy's rate-limit filter: immutable
// rules, an injected store, and OK / over limit / error as distinct results. Thread-safe
// (const after construction).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ratelimit/bucket.hpp"
#include "ratelimit/key_builder.hpp"
#include "ratelimit/override_cache.hpp"
#include "ratelimit/rule.hpp"
#include "store/bucket_store.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace mailwarden::ratelimit {

/// When the limiter is asked.
enum class Stage {
    Recipient,     ///< RCPT TO: one unit per recipient rule and recipient-keyed rule
    EndOfMessage,  ///< end of message: one unit per message rule
};

/// One bucket a message touched: which rule and window, and its state after the check.
struct AppliedLimit {
    std::string rule;
    std::string subject;  ///< the encoded key subject ("alice@example.com")
    Window window;
    Counts counts = Counts::Messages;
    KeyPart first_part = KeyPart::Login;  ///< what the key is about, for the reply text
    Action action = Action::Tempfail;
    std::int64_t cost = 1;  ///< units asked of the bucket
    BucketUsage usage;      ///< the store's answer
};

/// The SMTP reply for a refusal.
struct LimitReply {
    int code = 451;        ///< 451 (tempfail, quarantine never replies) or 550
    std::string enhanced;  ///< "4.7.1" or "5.7.1"
    std::string text;      ///< the plain-language explanation
};

/// The answer for one message at one stage.
struct LimitResult {
    bool allowed = true;
    /// The limit that refused (strongest action, then longest wait); unset when allowed.
    std::optional<AppliedLimit> refused;
    Action action = Action::Tempfail;  ///< of `refused`
    std::chrono::milliseconds retry_after{0};
    util::SystemTime retry_at{};      ///< now + retry_after
    std::optional<LimitReply> reply;  ///< set when refused with tempfail or reject
    /// Who answered: "redis" or "local" for check (the event records it); the store's
    /// kind() for preview; empty when no rule applied.
    std::string source;
    std::vector<AppliedLimit> limits;  ///< every bucket checked, in rule order
};

/// The rate-limit rules of one configuration, applied through a BucketStore.
class Limiter {
  public:
    /// `rules` must have passed validate_rules; `store` must outlive the limiter. With
    /// `overrides`, the store's per-login overrides replace a rule's windows (before the
    /// config's own overrides).
    Limiter(std::vector<Rule> rules, store::BucketStore& store,
            std::shared_ptr<OverrideCache> overrides = nullptr);

    /// Checks and charges the buckets of `facts` for `stage` at `now` (one store call).
    /// Allowed with no limits when no rule applies. Store failures are returned as they
    /// are, for the caller's on_store_failure.
    util::Result<LimitResult> check(const MessageFacts& facts, Stage stage,
                                    util::SystemTime now) const;

    /// What the next message (with the given recipients, or one recipient "" when none)
    /// would meet at both stages, charging nothing: for `mailwardenctl limits --dry-run`.
    util::Result<LimitResult> preview(const MessageFacts& facts, util::SystemTime now) const;

    /// The buckets `facts` touches at `stage`, with the rule and window of each.
    std::vector<AppliedLimit> plan(const MessageFacts& facts, Stage stage) const;

    const std::vector<Rule>& rules() const { return rules_; }

  private:
    LimitResult decide(std::vector<AppliedLimit> limits, std::string source,
                       util::SystemTime now) const;

    std::vector<Rule> rules_;
    store::BucketStore& store_;
    std::shared_ptr<OverrideCache> overrides_;
};

/// Whether `rule` applies to `facts` at all (scope, exemptions); ignores the stage.
bool applies(const Rule& rule, const MessageFacts& facts);

/// The reply for a refusal: "You have sent 30 messages in the last minute; the limit for
/// your account is 30 per minute. Try again after 14:32 UTC." with 451 4.7.1, or 550 5.7.1
/// for reject. The time is `retry_at` rounded up to the minute, with the date when it is
/// not the day of `now`.
LimitReply reply_for(const AppliedLimit& limit, Action action, util::SystemTime now,
                     util::SystemTime retry_at);

/// "minute", "5 minutes", "day", "90 seconds": the period in words (singular for 1).
std::string period_words(std::chrono::milliseconds period);

}  // namespace mailwarden::ratelimit
