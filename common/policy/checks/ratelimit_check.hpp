// ratelimit_check.hpp - sender rate limits at RCPT (recipient-counting rules) and at end of
// message (message-counting rules), through ratelimit::Limiter: all buckets of a stage are
// checked and charged in one store call, all or nothing, so refused recipients and
// refused messages are never charged.
//
// The reply names the limit and when to try again; the reason (and so the event) carries
// the rule, key, usage, limit, retry time and whether Redis or the local fallback
// answered. A store error is logged and the mail passes (limits fail open; the fallback
// store makes that rare).
#pragma once

#include <memory>
#include <vector>

#include "policy/check.hpp"
#include "ratelimit/limiter.hpp"
#include "store/bucket_store.hpp"
#include "util/clock.hpp"

namespace mailwarden::policy {

class RateLimitCheck final : public Check {
  public:
    /// `rules` must have passed ratelimit::validate_rules.
    /// `overrides` (may be null): the store's per-login overrides.
    RateLimitCheck(std::shared_ptr<store::BucketStore> buckets, std::vector<ratelimit::Rule> rules,
                   std::shared_ptr<const util::Clock> clock,
                   std::shared_ptr<ratelimit::OverrideCache> overrides = nullptr);

    std::string_view name() const override { return "ratelimit"; }
    StageMask stages() const override { return {Stage::Rcpt, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The decision for one stage of `tx` (Rcpt: the current recipient).
    Decision decide(Stage stage, const Transaction& tx) const;

  private:
    std::shared_ptr<store::BucketStore> buckets_;
    ratelimit::Limiter limiter_;
    std::shared_ptr<const util::Clock> clock_;
};

}  // namespace mailwarden::policy
