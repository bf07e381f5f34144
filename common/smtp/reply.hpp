// reply.hpp - an SMTP reply that mailwarden sends: basic code, enhanced code, text lines.
//
// Replies are validated the way Postfix validates a milter's reply
// (milter8_valid_smtp_reply): the basic code is 4xx or 5xx, the enhanced class equals the
// basic class, each line is printable ASCII without CR, LF or NUL, at most kMaxReplyLines
// lines of at most kMaxReplyLineLength octets. Parsing replies that *others* send (bounces,
// diagnostics) is a different job: see smtp/diagnostic.hpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::smtp {

inline constexpr std::size_t kMaxReplyLines = 32;        // smfi_setmlreply takes at most 32
inline constexpr std::size_t kMaxReplyLineLength = 480;  // keeps "550-5.7.1 " + text < 512

/// A reply to send: "550 5.7.1 text" (one line) or several lines sharing code and status.
struct Reply {
    int code = 0;              ///< 421..554
    std::string enhanced;      ///< "5.7.1"; empty when there is none
    std::vector<std::string> lines;

    /// The reply as it goes on the wire, CRLF-terminated ("550-5.7.1 a\r\n550 5.7.1 b\r\n").
    std::string to_wire() const;
    /// One line for logs: "550 5.7.1 first line / second line".
    std::string summary() const;
    friend bool operator==(const Reply&, const Reply&) = default;
};

/// Builds a validated reply. Lines are cleaned (control characters become spaces, 8-bit
/// bytes become '?', overlong lines are wrapped at spaces); InvalidInput when the codes are
/// inconsistent (a 4xx with a 5.x.x status, a code outside 4xx/5xx, a malformed status).
util::Result<Reply> make_reply(int code, std::string_view enhanced,
                               const std::vector<std::string>& lines);

/// Splits configured reply text on '\n' into lines (blank lines dropped).
std::vector<std::string> split_reply_text(std::string_view text);

}  // namespace mailwarden::smtp
