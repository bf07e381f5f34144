// received_spf.hpp - the Received-SPF header field (RFC 7208 §9.1) for an Outcome.
//
// Produces the field value only (no "Received-SPF:" name, no folding); the caller adds the
// header. Every part is printable ASCII: client-supplied text is quoted or replaced, never
// copied raw. Never throws.
#pragma once

#include <string>
#include <string_view>

#include "auth/spf/evaluator.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::auth::spf {

/// What the header says besides the outcome itself.
struct ReceivedSpfContext {
    util::IpAddress client_ip;
    std::string_view envelope_from;  ///< MAIL FROM as sent, "" for the null sender
    std::string_view helo;
    std::string_view receiver;  ///< this host's name (the authserv-id)
};

/// RFC 7208 §9.1: "pass (receiver: comment with short trace) client-ip=...;
/// envelope-from=...; helo=...; receiver=...; identity=...; mechanism=...; problem=...".
std::string received_spf_value(const Outcome& outcome, const ReceivedSpfContext& context);

/// The RFC 7208 §9.1 comment text for a result: "domain of S designates IP as permitted
/// sender", "... does not designate ...", and so on.
std::string result_comment(const Outcome& outcome, const util::IpAddress& client_ip);

}  // namespace mailwarden::auth::spf
