// verifier.hpp - verifies every DKIM-Signature of one message while it streams
// (RFC 6376 with RFC 8301 and RFC 8463).
//
// Use: header() for each header field in order, end_of_headers(), body() per chunk,
// finish(). Body canonicalization and hashing run per chunk for every signature at once;
// the body is never buffered. Keys are fetched through dns::Resolver (TXT at
// <s>._domainkey.<d>). One Verifier per message; not thread-safe; never throws. Memory is
// bounded by the header size and Options::max_signatures whatever the input.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "auth/dkim/result.hpp"
#include "dns/resolver.hpp"

namespace mailwarden::auth::dkim {

/// Verification settings; the defaults follow RFC 6376 and RFC 8301.
struct Options {
    /// Signatures verified per message; later ones get permerror "too many signatures".
    std::size_t max_signatures = 10;
    /// RSA keys below this fail with permerror (RFC 8301 §3.2: 1024).
    unsigned min_rsa_bits = 1024;
    /// RSA keys above this are refused (cost bound); RFC 8301 requires up to 4096.
    unsigned max_rsa_bits = 8192;
    /// rsa-sha1 is not valid (RFC 8301 §3.1): permerror unless this is true.
    bool allow_rsa_sha1 = false;
    /// Tolerance for t= in the future and x= in the past.
    std::chrono::seconds clock_skew{300};
};

/// Streaming verifier for one message.
class Verifier {
  public:
    /// `resolver` must outlive the Verifier; `now` is the verification time (for x=/t=).
    Verifier(dns::Resolver& resolver, Options options, std::chrono::system_clock::time_point now);
    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;
    Verifier(Verifier&&) noexcept;
    Verifier& operator=(Verifier&&) noexcept;

    /// One header field, in message order. `value` is everything after the colon exactly as
    /// in the message (leading space and folding included); folding may use CRLF or bare LF.
    void header(std::string_view name, std::string_view value);
    /// All header fields seen: parses the signatures and fetches their keys.
    void end_of_headers();
    /// The next chunk of the body as sent by the MTA (CRLF line ends; a bare LF is taken
    /// as a line end).
    void body(std::span<const std::byte> chunk);
    /// The end of the message: one result per DKIM-Signature, in header order (empty when
    /// the message has none). Call once.
    std::vector<SignatureResult> finish();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

/// Verifies a whole message held in memory (header, blank line, body; CRLF or LF line
/// ends). For mailwardenctl, tests and benchmarks; the milter streams instead.
std::vector<SignatureResult> verify_message(dns::Resolver& resolver, std::string_view message,
                                            const Options& options,
                                            std::chrono::system_clock::time_point now);

}  // namespace mailwarden::auth::dkim
