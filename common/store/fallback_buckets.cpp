// fallback_buckets.cpp - switching between the shared and the local limiter.
#include "store/fallback_buckets.hpp"

#include <spdlog/spdlog.h>

namespace mailwarden::store {

using util::ErrorCode;

FallbackBucketStore::FallbackBucketStore(BucketStore& shared, FallbackBucketOptions options)
    : shared_(shared), options_(options), local_(options.local) {}

bool FallbackBucketStore::degraded() const {
    std::lock_guard lock(mutex_);
    return degraded_;
}

FallbackBucketStore::Attempt FallbackBucketStore::attempt(util::SystemTime now) {
    std::lock_guard lock(mutex_);
    if (!degraded_) {
        return Attempt::Shared;
    }
    if (probing_ || now < next_probe_) {
        return Attempt::Local;
    }
    probing_ = true;
    return Attempt::Probe;
}

void FallbackBucketStore::record(bool ok, bool was_probe, util::SystemTime now,
                                 const util::Error* error) {
    std::lock_guard lock(mutex_);
    if (was_probe) {
        probing_ = false;
    }
    if (ok) {
        if (degraded_) {
            degraded_ = false;
            spdlog::warn("rate limits: {} answers again; back to the fleet-wide limiter",
                         shared_.kind());
        }
        return;
    }
    next_probe_ = now + options_.retry_interval;
    if (!degraded_) {
        degraded_ = true;
        spdlog::warn(
            "rate limits: {} failed ({}); this node's local limiter answers until it is back",
            shared_.kind(), error != nullptr ? error->describe() : "unknown error");
    }
}

util::Result<BucketOutcome> FallbackBucketStore::check_and_consume(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    if (auto valid = validate_requests(requests); !valid) {
        return std::unexpected(valid.error());
    }
    const Attempt how = attempt(now);
    const bool was_probe = how == Attempt::Probe;
    if (how != Attempt::Local) {
        auto outcome = shared_.check_and_consume(requests, now);
        if (outcome) {
            record(true, was_probe, now, nullptr);
            return outcome;
        }
        if (outcome.error().code == ErrorCode::InvalidInput) {
            record(true, was_probe, now, nullptr);
            return outcome;
        }
        record(false, was_probe, now, &outcome.error());
    }
    return local_.check_and_consume(requests, now);
}

util::Result<std::vector<BucketUsage>> FallbackBucketStore::peek(
    std::span<const BucketRequest> requests, util::SystemTime now) {
    if (auto valid = validate_requests(requests); !valid) {
        return std::unexpected(valid.error());
    }
    const Attempt how = attempt(now);
    const bool was_probe = how == Attempt::Probe;
    if (how != Attempt::Local) {
        auto usages = shared_.peek(requests, now);
        if (usages || usages.error().code == ErrorCode::InvalidInput) {
            record(true, was_probe, now, nullptr);
            return usages;
        }
        record(false, was_probe, now, &usages.error());
    }
    return local_.peek(requests, now);
}

}  // namespace mailwarden::store
