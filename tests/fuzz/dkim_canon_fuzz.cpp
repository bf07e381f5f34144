// dkim_canon_fuzz.cpp - fuzzes streaming body canonicalization (RFC 6376 §3.4.3, §3.4.4).
//
// The first byte picks simple or relaxed and a chunk size; the rest is the body. The body is
// canonicalized whole and again in chunks of that size (every split point the fuzzer finds,
// CR/LF pairs included). Properties: both outputs are equal; the output is empty or ends
// with CRLF (simple: never empty); it has no bare CR-LF-less line ends; relaxed output has
// no HTAB, no SP before a CRLF and no run of two SP; header canonicalization never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/dkim/canonicalization.hpp"

namespace dkim = mailwarden::auth::dkim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const bool relaxed = (data[0] & 1) != 0;
    const std::size_t chunk = 1 + (data[0] >> 1);
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto canon = relaxed ? dkim::Canonicalization::Relaxed : dkim::Canonicalization::Simple;

    std::string whole;
    dkim::BodyCanonicalizer a(canon);
    a.update(body, whole);
    a.finish(whole);

    std::string pieces;
    dkim::BodyCanonicalizer b(canon);
    for (std::size_t at = 0; at < body.size(); at += chunk) {
        b.update(std::string_view(body).substr(at, chunk), pieces);
    }
    b.finish(pieces);
    if (whole != pieces) {
        std::abort();
    }
    if (!relaxed && whole.empty()) {
        std::abort();
    }
    if (!whole.empty() && !whole.ends_with("\r\n")) {
        std::abort();
    }
    for (std::size_t i = 0; i < whole.size(); ++i) {
        if (whole[i] == '\n' && (i == 0 || whole[i - 1] != '\r')) {
            std::abort();  // every line end is CRLF
        }
        if (relaxed && (whole[i] == ' ' || whole[i] == '\t')) {
            const std::string_view next = std::string_view(whole).substr(i + 1);
            if (whole[i] == '\t' || next.starts_with(' ') || next.starts_with("\r\n")) {
                std::abort();
            }
        }
    }
    std::string header;
    dkim::canonicalize_header(canon, "X-Fuzz", dkim::normalize_line_ends(body), header);
    return 0;
}
