// rewrite.hpp - puts a plain-language explanation at the top of a bounce, keeping the
// original report intact and machine-readable.
//
// An RFC 3464/6522 multipart/report keeps its top level (same Content-Type, same boundary,
// the message/delivery-status and returned-message parts byte for byte): only its first,
// human-readable part becomes a multipart/mixed of our explanation followed by that
// original part. Mail clients show the first part of a report inline, so the sender reads
// our explanation first and the MTA's own text right below it, while bounce processors
// still find report-type=delivery-status at the top. Any other bounce (non-standard text,
// Exchange NDRs) is wrapped whole: a new multipart/mixed of the explanation and the
// original entity, which needs the top-level Content-Type replaced. The explanation is
// text/plain, plus text/html in a multipart/alternative when the original had HTML. MIME
// is built and written by GMime 3 (boundaries included), with CRLF line ends as a milter
// body must have. Pure; thread-safe; never throws.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dsn/explain.hpp"
#include "dsn/report.hpp"
#include "util/error.hpp"

namespace mailwarden::dsn {

/// The new body and what the top-level header must become for it.
struct Rewrite {
    std::string body;  ///< the new body, CRLF line ends
    /// The new top-level Content-Type value when the top level changed (wrapped bounces);
    /// nullopt when the original Content-Type stays valid (multipart/report).
    std::optional<std::string> content_type;
    /// True when Content-Transfer-Encoding must be removed from the top-level header
    /// (a multipart entity is 7bit/8bit; the wrapped part carries its own encoding).
    bool drop_transfer_encoding = false;
};

/// The explanation as the sender reads it (text/plain): one paragraph per recipient.
std::string explanation_text(std::span<const RecipientExplanation> failures,
                             const OriginalMessage& original);

/// The same explanation as an HTML fragment-complete document.
std::string explanation_html(std::span<const RecipientExplanation> failures,
                             const OriginalMessage& original);

/// Rewrites `message` (the whole bounce as received, header and body) with an explanation
/// of `failures` at the top. InvalidInput when GMime cannot parse it or `failures` is
/// empty; the caller then leaves the bounce untouched.
[[nodiscard]] util::Result<Rewrite> rewrite_bounce(std::string_view message,
                                                   std::span<const RecipientExplanation> failures,
                                                   const OriginalMessage& original);

}  // namespace mailwarden::dsn
