// store.cpp - the helpers every Store implementation shares: which counter an event
// bumps, and whether an event matches a query (so MemoryStore and RedisStore filter alike).
//
// Pure functions; no I/O, never fail.
#include "store/store.hpp"

#include "util/ascii.hpp"

namespace mailwarden::store {

std::string counter_key(const Event& event) {
    if (!event.enhanced_code.empty()) {
        return event.enhanced_code;
    }
    if (event.reply_code != 0) {
        return std::to_string(event.reply_code);
    }
    return event.action;
}

namespace {

// "550", "5.7" and "550 5.7.1" all select an event replied 550 5.7.1.
bool code_matches(const Event& event, std::string_view prefix) {
    const std::string basic = event.reply_code != 0 ? std::to_string(event.reply_code) : "";
    if (basic.starts_with(prefix) || event.enhanced_code.starts_with(prefix)) {
        return true;
    }
    const std::string both = basic + " " + event.enhanced_code;
    return both.starts_with(prefix);
}

}  // namespace

bool matches(const Event& event, const EventQuery& query) {
    if (query.sender && !util::iequals(event.sender, *query.sender)) {
        return false;
    }
    if (query.login && event.login != *query.login) {
        return false;
    }
    if (query.queue_id && event.queue_id != *query.queue_id) {
        return false;
    }
    if (query.code && !code_matches(event, *query.code)) {
        return false;
    }
    if (query.since && event.time < *query.since) {
        return false;
    }
    if (query.until && event.time > *query.until) {
        return false;
    }
    return true;
}

util::Result<FailureCounts> Store::failure_counts(FailureDimension /*dimension*/,
                                                  util::SystemTime /*hour*/) {
    return util::fail(util::ErrorCode::Unavailable, "this store keeps no failure analytics");
}

util::Result<std::vector<Event>> Store::recent_failures(FailureOwner /*owner*/,
                                                        std::string_view /*who*/,
                                                        std::size_t /*limit*/) {
    return util::fail(util::ErrorCode::Unavailable, "this store keeps no failure analytics");
}

}  // namespace mailwarden::store
