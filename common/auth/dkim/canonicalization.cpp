// canonicalization.cpp - RFC 6376 §3.4 header and body canonicalization.
#include "auth/dkim/canonicalization.hpp"

#include <algorithm>
#include <cstring>

#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {

namespace {

constexpr bool is_wsp(char c) noexcept {
    return c == ' ' || c == '\t';
}

}  // namespace

std::string normalize_line_ends(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 8);
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) {
            out += '\r';
        }
        out += value[i];
    }
    return out;
}

void canonicalize_header(Canonicalization canon, std::string_view name, std::string_view value,
                         std::string& out) {
    if (canon == Canonicalization::Simple) {
        // §3.4.1: no change at all.
        out.append(name);
        out += ':';
        out.append(value);
        out += "\r\n";
        return;
    }
    // §3.4.2: lower-case name, unfold, WSP runs to one SP, no WSP at either end of the
    // value or around the colon.
    while (!name.empty() && is_wsp(name.back())) {
        name.remove_suffix(1);
    }
    for (const char c : name) {
        out += util::to_lower(c);
    }
    out += ':';
    bool space = false;
    bool started = false;
    for (const char c : value) {
        if (c == '\r' || c == '\n') {
            continue;  // unfold
        }
        if (is_wsp(c)) {
            space = true;
            continue;
        }
        if (space && started) {
            out += ' ';
        }
        space = false;
        started = true;
        out += c;
    }
    out += "\r\n";
}

namespace {

constexpr std::size_t kBufferOctets = 8 * 1024;  // canonical output gathered per write

// Appends what it is given to a string (the string overloads of update() and finish()).
class AppendTo final : public BodyCanonicalizer::Sink {
  public:
    explicit AppendTo(std::string& out) noexcept : out_(out) {}
    void write(std::string_view canonical) override { out_.append(canonical); }

  private:
    std::string& out_;
};

// A 16-octet vector (GCC vector extension: SSE2 on x86-64, NEON on arm64, scalar code
// elsewhere); a comparison gives 0xFF in each octet where it holds.
using Octets16 = char __attribute__((vector_size(16)));

Octets16 load16(const char* at) noexcept {
    Octets16 v;
    std::memcpy(&v, at, sizeof v);
    return v;
}

Octets16 splat16(char c) noexcept {
    Octets16 v;
    std::memset(&v, c, sizeof v);
    return v;
}

bool any_set(Octets16 mask) noexcept {
    std::uint64_t halves[2];
    std::memcpy(halves, &mask, sizeof halves);
    return (halves[0] | halves[1]) != 0;
}

// True when the canonicalization may change the text at `i` of `s`, or when that cannot be
// told from `s` alone. Both: an LF not after CR (a bare LF becomes CRLF), a CR that is the
// last octet (a CRLF split between chunks). Relaxed also: a HTAB, an SP before SP or CR
// (a bare LF after SP is caught itself), an SP that is the last octet. `i` is 0 only at
// the start of a line, where an LF is bare. A bare CR is content and stays.
bool changes_at(std::string_view s, std::size_t i, bool relaxed) noexcept {
    const char c = s[i];
    const bool last = i + 1 == s.size();
    switch (c) {
        case '\t':
            return relaxed;
        case ' ':
            return relaxed && (last || s[i + 1] == ' ' || s[i + 1] == '\r');
        case '\r':
            return last;
        case '\n':
            return i == 0 || s[i - 1] != '\r';
        default:
            return false;
    }
}

// The length of the longest prefix of `s` (which starts at the start of a line) made of
// whole CRLF-ended lines that the canonicalization leaves as they are: the text up to the
// last LF before the first octet it would change. Sixteen octets at a time.
std::size_t unchanged_lines_prefix(std::string_view s, bool relaxed) noexcept {
    const std::size_t n = s.size();
    std::size_t line_end = 0;  // just past the last LF seen before any change
    std::size_t i = 0;
    auto scalar_until = [&](std::size_t stop) {
        for (; i < stop; ++i) {
            if (changes_at(s, i, relaxed)) {
                return false;
            }
            if (s[i] == '\n') {
                line_end = i + 1;
            }
        }
        return true;
    };
    if (!scalar_until(std::min<std::size_t>(1, n))) {
        return line_end;
    }
    const char* p = s.data();
    const Octets16 tab = splat16('\t');
    const Octets16 sp = splat16(' ');
    const Octets16 cr = splat16('\r');
    const Octets16 lf = splat16('\n');
    const Octets16 relaxed_mask = splat16(relaxed ? '\xff' : '\0');
    // Each block compares the octets at i..i+15 with their neighbours at i-1 and i+1.
    for (; i + 17 <= n; i += 16) {
        const Octets16 here = load16(p + i);
        const Octets16 next = load16(p + i + 1);
        const Octets16 before = load16(p + i - 1);
        const Octets16 wsp_rule = (here == tab) | ((here == sp) & ((next == sp) | (next == cr)));
        const Octets16 changes = (wsp_rule & relaxed_mask) | ((here == lf) & ~(before == cr));
        if (any_set(changes)) {
            scalar_until(i + 16);  // stops at the first change; keeps line_end right
            return line_end;
        }
        if (any_set(here == lf)) {
            for (std::size_t k = 16; k-- > 0;) {
                if (p[i + k] == '\n') {
                    line_end = i + k + 1;
                    break;
                }
            }
        }
    }
    scalar_until(n);
    return line_end;
}

}  // namespace

void BodyCanonicalizer::update(std::string_view chunk, Sink& sink) {
    sink_ = &sink;
    update_chunk(chunk);
    flush_buffer();
    sink_ = nullptr;
}

void BodyCanonicalizer::finish(Sink& sink) {
    sink_ = &sink;
    finish_body();
    flush_buffer();
    sink_ = nullptr;
}

void BodyCanonicalizer::update(std::string_view chunk, std::string& out) {
    AppendTo sink(out);
    update(chunk, sink);
}

void BodyCanonicalizer::finish(std::string& out) {
    AppendTo sink(out);
    finish(sink);
}

void BodyCanonicalizer::emit(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= kBufferOctets) {
        flush_buffer();
    }
}

void BodyCanonicalizer::flush_buffer() {
    if (!buffer_.empty()) {
        sink_->write(buffer_);
        buffer_.clear();
    }
}

void BodyCanonicalizer::flush_empty_lines() {
    static constexpr std::string_view kCrlfs =
        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
        "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
    while (pending_empty_lines_ > 0) {
        const std::uint64_t n = std::min<std::uint64_t>(pending_empty_lines_, kCrlfs.size() / 2);
        emit(kCrlfs.substr(0, 2 * n));
        pending_empty_lines_ -= n;
    }
}

void BodyCanonicalizer::content(std::string_view bytes) {
    if (!line_started_) {
        // The held-back empty lines turn out to be inside the body: emit them.
        flush_empty_lines();
        line_started_ = true;
        any_output_ = true;
    }
    emit(bytes);
}

void BodyCanonicalizer::line_end() {
    pending_space_ = false;  // relaxed §3.4.4: WSP at the end of a line is ignored
    if (line_started_) {
        emit("\r\n");
        line_started_ = false;
    } else {
        ++pending_empty_lines_;
    }
}

void BodyCanonicalizer::relaxed_content(std::string_view bytes) {
    if (pending_space_) {
        content(" ");  // a WSP run inside a line (or at its start) becomes one SP
        pending_space_ = false;
    }
    content(bytes);
}

void BodyCanonicalizer::bare_cr() {
    if (canon_ == Canonicalization::Simple) {
        content("\r");  // a bare CR is content
    } else {
        relaxed_content("\r");
    }
}

void BodyCanonicalizer::update_chunk(std::string_view chunk) {
    if (chunk.empty()) {
        return;
    }
    if (pending_cr_) {
        pending_cr_ = false;
        if (chunk.front() == '\n') {
            line_end();
            chunk.remove_prefix(1);
        } else {
            bare_cr();
        }
    }
    const bool relaxed = canon_ == Canonicalization::Relaxed;
    while (!chunk.empty()) {
        if (!line_started_ && !pending_space_) {
            const std::size_t clean = unchanged_lines_prefix(chunk, relaxed);
            if (clean > 0) {
                unchanged_lines(chunk.substr(0, clean));
                chunk.remove_prefix(clean);
                continue;
            }
        }
        const std::size_t used =
            relaxed ? relaxed_until_line_end(chunk) : simple_until_line_end(chunk);
        chunk.remove_prefix(used);
    }
}

// Whole lines that need no change, copied at once (straight to the sink when there is no
// buffered output before them). Trailing empty lines are held back: they may end the body.
void BodyCanonicalizer::unchanged_lines(std::string_view lines) {
    std::uint64_t trailing_empty = 0;
    while (lines.size() >= 2 && lines.ends_with("\r\n") &&
           (lines.size() == 2 || lines[lines.size() - 3] == '\n')) {
        lines.remove_suffix(2);
        ++trailing_empty;
    }
    if (!lines.empty()) {
        flush_empty_lines();
        if (lines.size() >= kBufferOctets) {
            flush_buffer();
            sink_->write(lines);
        } else {
            emit(lines);
        }
        any_output_ = true;
    }
    pending_empty_lines_ += trailing_empty;
}

// §3.4.3: lines unchanged (a bare LF ends a line too); only trailing empty lines are
// dropped. Up to and including the first line end; returns the octets consumed.
std::size_t BodyCanonicalizer::simple_until_line_end(std::string_view chunk) {
    const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
    if (nl == nullptr) {
        std::string_view rest = chunk;
        if (rest.back() == '\r') {  // maybe the CR of a CRLF split across chunks
            pending_cr_ = true;
            rest.remove_suffix(1);
        }
        if (!rest.empty()) {
            content(rest);
        }
        return chunk.size();
    }
    const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data());
    std::string_view line = chunk.substr(0, at);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (!line.empty()) {
        content(line);
    }
    line_end();
    return at + 1;
}

// §3.4.4: WSP runs become one SP, WSP at line ends and trailing empty lines are dropped.
// The byte-wise machine over `chunk` up to and including the first line end; returns the
// octets consumed.
std::size_t BodyCanonicalizer::relaxed_until_line_end(std::string_view chunk) {
    const std::size_t n = chunk.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = chunk[i];
        if (is_wsp(c)) {
            pending_space_ = true;
            ++i;
            continue;
        }
        if (c == '\n') {
            line_end();
            return i + 1;
        }
        if (c == '\r') {
            if (i + 1 == n) {
                pending_cr_ = true;  // decided by the next chunk (or finish)
                return n;
            }
            if (chunk[i + 1] == '\n') {
                line_end();
                return i + 2;
            }
        }
        // A run of content (a bare CR included), appended at once.
        std::size_t j = i + 1;
        while (j < n && !is_wsp(chunk[j]) && chunk[j] != '\r' && chunk[j] != '\n') {
            ++j;
        }
        relaxed_content(chunk.substr(i, j - i));
        i = j;
    }
    return n;
}

void BodyCanonicalizer::finish_body() {
    if (pending_cr_) {
        pending_cr_ = false;
        bare_cr();
    }
    if (line_started_) {
        emit("\r\n");  // §3.4.3/§3.4.4: a body without a final CRLF gets one
        line_started_ = false;
    }
    if (!any_output_ && canon_ == Canonicalization::Simple) {
        emit("\r\n");  // §3.4.3: an empty body is one CRLF (relaxed: empty, §3.4.4)
    }
    pending_empty_lines_ = 0;
    pending_space_ = false;
}

}  // namespace mailwarden::auth::dkim
