// canonicalization.hpp - the simple and relaxed canonicalizations of RFC 6376 §3.4.
//
// Header fields are canonicalized one at a time (they are small and all present at the end
// of the header). The body is canonicalized as a stream: BodyCanonicalizer takes the body
// in chunks of any size, split anywhere (also between CR and LF), and produces the same
// bytes as if it had seen the whole body at once. Trailing empty lines are held back as a
// count, never buffered. A bare LF is taken as a line end (MTAs hand CRLF; some tools LF);
// a bare CR is an ordinary character. Never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dkim/signature.hpp"

namespace mailwarden::auth::dkim {

/// `value` with every bare LF (one not preceded by CR) turned into CRLF: header folding as
/// RFC 5322 writes it, whatever line ends the MTA or the file used.
std::string normalize_line_ends(std::string_view value);

/// One header field canonicalized, with its CRLF: "name:value\r\n" (simple, §3.4.1) or
/// "lowercase-name:unfolded value\r\n" (relaxed, §3.4.2). `value` is everything after the
/// colon with CRLF folding.
void canonicalize_header(Canonicalization canon, std::string_view name, std::string_view value,
                         std::string& out);

/// Streaming body canonicalization (RFC 6376 §3.4.3, §3.4.4).
class BodyCanonicalizer {
  public:
    /// Where the canonical body goes, in pieces (a hash, for the verifier).
    class Sink {
      public:
        virtual ~Sink() = default;
        /// The next canonical octets; `canonical` is valid only during the call.
        virtual void write(std::string_view canonical) = 0;
    };

    explicit BodyCanonicalizer(Canonicalization canon) noexcept : canon_(canon) {}

    /// Canonicalizes the next chunk into `sink`. The output may lag the input (empty lines
    /// and trailing whitespace are held until it is known whether more content follows).
    /// Runs of lines the canonicalization leaves unchanged reach the sink without a copy;
    /// the rest goes through an internal buffer of a few KiB.
    void update(std::string_view chunk, Sink& sink);
    /// The end of the body: writes what is still held back (the final CRLF rules).
    void finish(Sink& sink);
    /// The same, appending to a string.
    void update(std::string_view chunk, std::string& out);
    void finish(std::string& out);

  private:
    void update_chunk(std::string_view chunk);
    void finish_body();
    void emit(std::string_view bytes);
    void flush_buffer();
    void flush_empty_lines();
    void content(std::string_view bytes);
    void line_end();
    void relaxed_content(std::string_view bytes);
    void bare_cr();
    void unchanged_lines(std::string_view lines);
    std::size_t simple_until_line_end(std::string_view chunk);
    std::size_t relaxed_until_line_end(std::string_view chunk);

    Canonicalization canon_;
    std::string buffer_;                     ///< canonical octets not yet written
    Sink* sink_ = nullptr;                   ///< set during update() and finish()
    std::uint64_t pending_empty_lines_ = 0;  ///< empty lines not yet known to be inner
    bool pending_cr_ = false;                ///< the last chunk ended with CR
    bool line_started_ = false;              ///< the current line has emitted content
    bool pending_space_ = false;             ///< relaxed: WSP seen, not yet emitted
    bool any_output_ = false;                ///< something was emitted
};

}  // namespace mailwarden::auth::dkim
