// failure_stats.hpp - what the stores count about outgoing failures (bounces reported
// back for our mail), shared by MemoryStore and RedisStore so both count alike.
//
// An "outgoing_failure" event bumps one per-hour counter per dimension (enhanced code,
// category, recipient domain, remote host) and joins the capped recent-failure lists of
// its sender, its login and its recipient domain. Pure functions; never fail.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/event.hpp"

namespace mailwarden::store {

/// The per-hour counters of outgoing failures.
enum class FailureDimension {
    Code,        ///< enhanced status code ("5.1.1"), else the basic code
    Category,    ///< explanation category ("userunknown")
    Domain,      ///< recipient domain
    RemoteHost,  ///< the server that refused
};
inline constexpr std::array kFailureDimensions = {
    FailureDimension::Code, FailureDimension::Category, FailureDimension::Domain,
    FailureDimension::RemoteHost};

/// "code", "category", "domain", "host".
std::string_view to_string(FailureDimension dimension) noexcept;
/// The inverse of to_string ("codes", "categories", "domains", "hosts" too).
std::optional<FailureDimension> parse_failure_dimension(std::string_view text) noexcept;

/// Whose recent failures are listed.
enum class FailureOwner {
    Sender,  ///< the original envelope sender
    Login,   ///< its SASL login
    Domain,  ///< the recipient domain
};
inline constexpr std::array kFailureOwners = {FailureOwner::Sender, FailureOwner::Login,
                                              FailureOwner::Domain};

/// "sender", "login", "domain".
std::string_view to_string(FailureOwner owner) noexcept;

/// Counts per value of one dimension.
using FailureCounts = std::map<std::string, std::int64_t>;

/// Newest recent failures kept per sender, login or domain.
inline constexpr std::size_t kRecentFailuresPerOwner = 100;

/// True for an event that reports an outgoing failure.
bool is_outgoing_failure(const Event& event);

/// The value an outgoing failure counts under in `dimension`; empty when it has none.
std::string failure_value(const Event& event, FailureDimension dimension);

/// The owner ids an outgoing failure is listed under (empty ones left out).
std::vector<std::pair<FailureOwner, std::string>> failure_owners(const Event& event);

/// The recipient domain of an outgoing failure (lower case), empty when unknown.
std::string recipient_domain(const Event& event);

}  // namespace mailwarden::store
