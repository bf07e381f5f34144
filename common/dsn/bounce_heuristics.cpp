#include "dsn/bounce_heuristics.hpp"

#include <re2/re2.h>

#include <array>
#include <unordered_set>

#include "util/ascii.hpp"

namespace mailwarden::dsn {

namespace {

// A diagnostic collected from prose never needs more than this.
constexpr std::size_t kMaxDiagnosticLines = 40;
constexpr std::size_t kMaxDiagnosticBytes = 4096;
constexpr std::size_t kNearLines = 6;

// Phrases that introduce the returned original message (lower case).
constexpr std::array<std::string_view, 15> kOriginalMarkers{
    "copy of the message",
    "unsent message follows",
    "original message follows",
    "original message --",
    "unsent message below",
    "header of the original message",
    "headers of the original message",
    "text you sent follows",
    "message headers follow",
    "original message headers",
    "content-type: message/rfc822",
    "the body of the message",
    "below is a copy of",
    "rfc822 headers of the original",
    "the message you sent follows",
};

constexpr std::array<std::string_view, 9> kBounceSenders{
    "mailer-daemon", "mailer_daemon", "postmaster",         "mail delivery", "mail-daemon",
    "maildaemon",    "mailerdaemon",  "mail administrator", "post_master",
};

constexpr std::array<std::string_view, 27> kBounceSubjects{
    "undeliver",
    "delivery status notification",
    "returned mail",
    "failure notice",
    "delivery failure",
    "mail delivery failed",
    "delivery failed",
    "not delivered",
    "could not be delivered",
    "nondeliverable",
    "non-deliverable",
    "non remis",
    "delivery problem",
    "could not send",
    "delivery delayed",
    "delayed mail",
    "mail system error",
    "delivery notification",
    "returned to sender",
    "unzustellbar",
    "mail failure",
    "message failure",
    "permanent error",
    "delivery report",
    "ndn",
    "error sending",
    "message not delivered",
};

struct Patterns {
    // An address at the start of a line: "<bob@x.org>:", "bob@x.org", "<bob@x.org>...",
    // "RCPT To:<bob@x.org>" (also as ">>> RCPT To:<bob@x.org>" in a Sendmail transcript),
    // "554 <bob@x.org>... Host unknown", then text on the same line.
    RE2 address_line{
        R"(^[ \t]*([245][0-9][0-9][ \t]+)?(?:>>>[ \t]*)?(RCPT To:[ \t]*)?['"<]*([A-Za-z0-9._%+=/!#$&*?^`{|}~-][A-Za-z0-9._%+=/'!#$&*?^`{|}~-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)['">]*[ \t]*(.*)$)"};
};

const Patterns& patterns() {
    static const Patterns instance;
    return instance;
}

std::string_view next_line(std::string_view text, std::size_t& pos) {
    const std::size_t end = text.find('\n', pos);
    std::string_view line =
        end == std::string_view::npos ? text.substr(pos) : text.substr(pos, end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

// Text after an address on its own line: drop the separators ":" "..." ">".
std::string_view after_address(std::string_view rest) {
    rest = util::trim(rest);
    while (!rest.empty() && (rest.front() == ':' || rest.front() == '.' || rest.front() == '>' ||
                             rest.front() == ',')) {
        rest.remove_prefix(1);
    }
    return util::trim(rest);
}

}  // namespace

std::string_view error_section(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = pos;
        const std::string_view line = next_line(text, pos);
        if (line.size() > 200) {
            continue;
        }
        const std::string lower = util::to_lower(line);
        for (const std::string_view marker : kOriginalMarkers) {
            if (lower.find(marker) != std::string::npos) {
                return text.substr(0, start);
            }
        }
        // The original's headers pasted inline.
        if (start > 0 && (line.starts_with("Received: ") || line.starts_with("Return-Path: "))) {
            return text.substr(0, start);
        }
    }
    return text;
}

std::vector<TextFinding> find_failed_recipients(std::string_view text, std::size_t max_recipients) {
    std::vector<TextFinding> found;
    std::unordered_set<std::string> seen;
    const RE2& address_line = patterns().address_line;
    TextFinding* current = nullptr;
    std::size_t lines_in_current = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::string_view line = next_line(text, pos);
        re2::StringPiece code, rcpt, address, rest;
        if (line.size() < 1000 && RE2::FullMatch(re2::StringPiece(line.data(), line.size()),
                                                 address_line, &code, &rcpt, &address, &rest)) {
            const std::string key =
                util::to_lower(std::string_view(address.data(), address.size()));
            // Keep what the line says besides the address: Sendmail's leading reply code
            // ("554 <bob@x>... Host unknown") and the SMTP stage (">>> RCPT To:<bob@x>").
            std::string tail_text;
            if (!rcpt.empty()) {
                tail_text = ">>> RCPT To: ";
            }
            tail_text += std::string(code.data(), code.size());
            tail_text += after_address(std::string_view(rest.data(), rest.size()));
            const std::string_view tail = util::trim(tail_text);
            if (seen.insert(key).second) {
                if (found.size() >= max_recipients) {
                    current = nullptr;
                    continue;
                }
                found.push_back(
                    TextFinding{std::string(address.data(), address.size()), std::string(tail)});
                current = &found.back();
            } else {
                // Seen again (Sendmail names it twice): extend its diagnostic.
                current = nullptr;
                for (TextFinding& finding : found) {
                    if (util::iequals(finding.recipient, key)) {
                        current = &finding;
                    }
                }
                if (current != nullptr && !tail.empty()) {
                    current->diagnostic += ' ';
                    current->diagnostic += tail;
                }
            }
            lines_in_current = 0;
            continue;
        }
        if (current == nullptr || lines_in_current >= kMaxDiagnosticLines ||
            current->diagnostic.size() >= kMaxDiagnosticBytes) {
            continue;
        }
        const std::string_view trimmed = util::trim(line);
        if (trimmed.empty()) {
            continue;
        }
        // A Sendmail transcript moves on to another host: what follows is not about the
        // current recipient.
        if (util::istarts_with(trimmed, "while talking to")) {
            current = nullptr;
            continue;
        }
        if (!current->diagnostic.empty()) {
            current->diagnostic += '\n';
        }
        current->diagnostic += trimmed;
        ++lines_in_current;
    }
    return found;
}

std::string diagnostic_near(std::string_view text, std::string_view address) {
    if (address.empty()) {
        return "";
    }
    const std::string lower_text = util::to_lower(text);
    const std::string lower_address = util::to_lower(address);
    const std::size_t at = lower_text.find(lower_address);
    if (at == std::string::npos) {
        return "";
    }
    std::size_t pos = at + address.size();
    std::string out;
    for (std::size_t lines = 0; lines < kNearLines && pos < text.size(); ++lines) {
        const std::string_view line = util::trim(next_line(text, pos));
        if (line.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += '\n';
        }
        out += line;
        if (out.size() > kMaxDiagnosticBytes) {
            break;
        }
    }
    return std::string(after_address(out));
}

bool looks_like_bounce(std::string_view from, std::string_view subject) {
    const std::string lower_from = util::to_lower(from);
    for (const std::string_view sender : kBounceSenders) {
        if (lower_from.find(sender) != std::string::npos) {
            return true;
        }
    }
    const std::string lower_subject = util::to_lower(subject);
    for (const std::string_view phrase : kBounceSubjects) {
        if (lower_subject.find(phrase) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string squeeze(std::string_view text, std::size_t max_bytes) {
    std::string out;
    bool space = false;
    for (const char c : text.substr(0, max_bytes)) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out.push_back(' ');
            space = false;
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace mailwarden::dsn
