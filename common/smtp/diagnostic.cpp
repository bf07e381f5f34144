#include "smtp/diagnostic.hpp"

#include <re2/re2.h>

#include <array>
#include <cstddef>
#include <utility>

#include "util/ascii.hpp"

namespace mailwarden::smtp {

namespace {

// Longer inputs are cut: a diagnostic is a few lines; a bounce quoting a whole message
// must not make classification cost grow without bound.
constexpr std::size_t kMaxDiagnosticBytes = 16 * 1024;
// "smtp;", "x-unix;", "X-Postfix;" - RFC 3464 §2.3.6 diagnostic-type is an atom.
constexpr std::size_t kMaxTypeLength = 16;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Regexes of the wrappers MTAs put around a remote reply. Compiled once, thread-safe.
struct Wrappers {
    // Postfix "host mx.example.com[192.0.2.1] said:", Exim "host mx.example.com [192.0.2.1]:"
    RE2 host_said{
        R"((?i)\bhost\s+([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\[([0-9A-Fa-f:.]+)\]\s*(said)?\s*:?)"};
    // Postfix "connect to mx.example.com[192.0.2.1]:25: Connection refused"
    RE2 connect_to{R"((?i)\bconnect to\s+([A-Za-z0-9_][A-Za-z0-9_.-]*)\[([0-9A-Fa-f:.]+)\])"};
    // Postfix "(in reply to RCPT TO command)", "(in reply to end of DATA command)"
    RE2 in_reply_to{R"((?i)\(in reply to (?:the )?([A-Za-z]+(?: [A-Za-z]+)*) command\))"};
    // Exim "SMTP error from remote mail server after RCPT TO:<a@b>:"
    RE2 exim_after{
        R"((?i)\bafter (RCPT TO|MAIL FROM|end of data|DATA|initial connection|EHLO|HELO|STARTTLS|pipelined))"};
    // Sendmail transcripts ">>> RCPT To:<a@b>"
    RE2 sendmail_sent{R"((?i)>>> ?(RCPT|MAIL|DATA|EHLO|HELO))"};
};

const Wrappers& wrappers() {
    static const Wrappers instance;
    return instance;
}

// Normalises a command phrase to the SMTP verb.
std::string command_verb(std::string_view phrase) {
    const std::string lower = util::to_lower(phrase);
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kVerbs{{
        {"rcpt", "RCPT"},
        {"mail", "MAIL"},
        {"end of data", "DATA"},
        {"data", "DATA"},
        {"initial connection", "CONNECT"},
        {"ehlo", "EHLO"},
        {"helo", "HELO"},
        {"starttls", "STARTTLS"},
        {"pipelined", "DATA"},
    }};
    for (const auto& [prefix, verb] : kVerbs) {
        if (lower.starts_with(prefix)) {
            return std::string(verb);
        }
    }
    return "";
}

// Whether position `pos` of `text` starts a reply code that is plausibly the reply's own
// code and not a number in prose: at the start of a line, after "said:"/":"/"(", or
// immediately followed by an enhanced code or a continuation dash.
bool reply_code_at(std::string_view text, std::size_t pos) {
    if (!parse_reply_code(text.substr(pos))) {
        return false;
    }
    const char before = pos == 0 ? '\n' : text[pos - 1];
    if (is_digit(before) || is_alpha(before) || before == '.' || before == '-' || before == '/' ||
        before == '[') {
        return false;
    }
    if (before == '\n' || before == ':' || before == '(' || before == '"' || before == '<' ||
        before == '#' || before == '\'') {
        return true;
    }
    // Preceded by a blank: accept when it looks like "NNN X.Y.Z" or "NNN-".
    const std::string_view rest = text.substr(pos + 3);
    if (!rest.empty() && rest[0] == '-') {
        return true;
    }
    if (rest.size() > 1 && (rest[0] == ' ' || rest[0] == '\t')) {
        const std::string_view after = rest.substr(1);
        if (enhanced_status_length(after) > 0) {
            return true;
        }
    }
    // "said 550 ..." and similar: the word before is a verb of speech or a colon.
    std::size_t end = pos;
    while (end > 0 && is_space(text[end - 1])) {
        --end;
    }
    std::size_t start = end;
    while (start > 0 && !is_space(text[start - 1])) {
        --start;
    }
    const std::string word = util::to_lower(text.substr(start, end - start));
    return end == 0 || word.ends_with(":") || word == "said" || word == "error" ||
           word == "reply" || word == "response" || word == "returned" || word == "was";
}

// Finds the first plausible failure reply code (4xx, 5xx) in `text`, else the first
// success code (a transcript quotes "220"/"250" lines before the failure); npos when none.
std::size_t find_reply_code(std::string_view text) {
    std::size_t success = std::string_view::npos;
    for (std::size_t pos = 0; pos + 3 <= text.size(); ++pos) {
        const char c = text[pos];
        if ((c == '2' || c == '4' || c == '5') && reply_code_at(text, pos)) {
            if (c != '2') {
                return pos;
            }
            if (success == std::string_view::npos) {
                success = pos;
            }
        }
    }
    return success;
}

// Finds the first enhanced status code in `text` that stands as a word ("#5.1.1" and
// "(5.7.1)" count; "10.5.1.1" and "v4.2.1" do not). Returns {position, length}.
std::pair<std::size_t, std::size_t> find_enhanced_status(std::string_view text) {
    for (std::size_t pos = 0; pos + 5 <= text.size(); ++pos) {
        const char c = text[pos];
        if (c != '2' && c != '4' && c != '5') {
            continue;
        }
        if (pos > 0) {
            const char before = text[pos - 1];
            if (is_digit(before) || is_alpha(before) || before == '.' || before == '-' ||
                before == '_') {
                continue;
            }
        }
        const std::size_t length = enhanced_status_length(text.substr(pos));
        if (length > 0) {
            const std::size_t end = pos + length;
            if (end < text.size() && (is_alpha(text[end]) || text[end] == '_')) {
                continue;
            }
            return {pos, length};
        }
    }
    return {std::string_view::npos, 0};
}

// Removes every "NNN-X.Y.Z " / "NNN X.Y.Z " / "NNN-" reply prefix equal to `code` (and
// `status`) from the text: continuation lines, also when flattened onto one line.
std::string strip_reply_prefixes(std::string_view text, const std::string& code,
                                 const std::string& status) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const bool boundary =
            pos == 0 || is_space(text[pos - 1]) || text[pos - 1] == ':' || text[pos - 1] == '(';
        if (boundary && text.compare(pos, code.size(), code) == 0 &&
            pos + code.size() <= text.size()) {
            std::size_t next = pos + code.size();
            const char sep = next < text.size() ? text[next] : ' ';
            if (sep == '-' || sep == ' ' || sep == '\t' || next == text.size()) {
                std::size_t skip = next < text.size() ? next + 1 : next;
                bool strip = sep == '-' || next == text.size();
                if (!status.empty() && text.compare(skip, status.size(), status) == 0 &&
                    (skip + status.size() == text.size() || is_space(text[skip + status.size()]))) {
                    skip += status.size();
                    strip = true;
                }
                if (strip) {
                    out.push_back(' ');
                    pos = skip;
                    continue;
                }
            }
        }
        out.push_back(text[pos]);
        ++pos;
    }
    return out;
}

// Collapses runs of blanks and line breaks into one space and trims.
std::string collapse_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (const char c : text) {
        if (is_space(c) || c == '\0') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out.push_back(' ');
            pending_space = false;
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace

std::optional<int> parse_reply_code(std::string_view text) noexcept {
    if (text.size() < 3 || !is_digit(text[0]) || !is_digit(text[1]) || !is_digit(text[2])) {
        return std::nullopt;
    }
    // RFC 5321 §4.2.1: first digit 2-5, second digit 0-5.
    if (text[0] < '2' || text[0] > '5' || text[1] > '5') {
        return std::nullopt;
    }
    // Followed by a separator; ',' ';' ':' ')' ']' also end it in the wild
    // ("ERROR_CODE :421,", "550: 5.1.1", "[550 5.1.1 User unknown]").
    if (text.size() > 3) {
        const char next = text[3];
        if (next != ' ' && next != '-' && next != '\t' && next != '\r' && next != '\n' &&
            next != ',' && next != ';' && next != ':' && next != ')' && next != ']') {
            return std::nullopt;
        }
    }
    return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
}

std::optional<bool> Diagnostic::permanent() const {
    if (reply_code) {
        return *reply_code >= 500;
    }
    if (status) {
        return status->klass == 5;
    }
    return std::nullopt;
}

Diagnostic parse_diagnostic(std::string_view input) {
    Diagnostic result;
    if (input.size() > kMaxDiagnosticBytes) {
        input = input.substr(0, kMaxDiagnosticBytes);
    }
    std::string_view rest = util::trim(input);

    // RFC 3464 §2.3.6: "Diagnostic-Code: smtp; 550 ..." - the type atom and ';'.
    if (const std::size_t semi = rest.find(';');
        semi != std::string_view::npos && semi > 0 && semi <= kMaxTypeLength) {
        const std::string_view type = util::trim(rest.substr(0, semi));
        bool atom = !type.empty() && is_alpha(type[0]);
        for (const char c : type) {
            atom = atom && (is_alpha(c) || is_digit(c) || c == '-');
        }
        if (atom) {
            result.type = util::to_lower(type);
            rest = util::trim(rest.substr(semi + 1));
        }
    }

    const Wrappers& re = wrappers();
    // Regexes run only when their literal is present (cheap substring tests first).
    const std::string lower = util::to_lower(rest);
    const auto has = [&lower](std::string_view word) {
        return lower.find(word) != std::string::npos;
    };
    re2::StringPiece host, ip, said;
    if ((has("host") && RE2::PartialMatch(rest, re.host_said, &host, &ip, &said)) ||
        (has("connect to") && RE2::PartialMatch(rest, re.connect_to, &host, &ip))) {
        result.remote_host = std::string(host.data(), host.size());
        result.remote_ip = std::string(ip.data(), ip.size());
    }
    re2::StringPiece command;
    if ((has("in reply to") && RE2::PartialMatch(rest, re.in_reply_to, &command)) ||
        (has("after ") && RE2::PartialMatch(rest, re.exim_after, &command)) ||
        (has(">>>") && RE2::PartialMatch(rest, re.sendmail_sent, &command))) {
        result.command = command_verb(std::string_view(command.data(), command.size()));
    }
    if (result.command.empty()) {
        // Stage hints in MTA prose: qmail ("does not like recipient", "failed after I sent
        // the message", "sender was rejected"), Yahoo ("[RCPT_TO]"), others.
        static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kHints{{
            {"refused to talk to me", "CONNECT"},
            {"smtp:rcpt host", "RCPT"},  // Sun/Oracle Messaging Server, X3: "SMTP:RCPT host ..."
            {"smtp:mail host", "MAIL"},
            {"smtp:data host", "DATA"},
            {"does not like recipient", "RCPT"},
            {"[rcpt_to]", "RCPT"},
            {"following rcpt command", "RCPT"},
            {"failed after i sent the message", "DATA"},
            {"but sender was rejected", "MAIL"},
            {"[mail_from]", "MAIL"},
        }};
        for (const auto& [hint, verb] : kHints) {
            if (has(hint)) {
                result.command = std::string(verb);
                break;
            }
        }
    }

    // Drop the wrapper when a reply follows it: "host X[ip] said: 550 ..." -> "550 ...".
    if (!host.empty()) {
        const std::size_t at = static_cast<std::size_t>(host.data() - rest.data());
        std::size_t after = static_cast<std::size_t>(ip.data() - rest.data()) + ip.size();
        if (after < rest.size() && rest[after] == ']') {
            ++after;
        }
        const std::string_view tail = rest.substr(after);
        std::size_t skip = 0;
        const auto skip_separators = [&] {
            while (skip < tail.size() && (is_space(tail[skip]) || tail[skip] == ':')) {
                ++skip;
            }
        };
        skip_separators();
        if (util::istarts_with(tail.substr(skip), "said")) {
            skip += 4;
            skip_separators();
        }
        if (at >= 5 && parse_reply_code(tail.substr(skip))) {
            rest = tail.substr(skip);
        }
    }

    // Bounce prose that introduces the remote reply ("The error that the other server
    // returned was: 550 ..."): the reply is what follows.
    static constexpr std::array<std::string_view, 5> kIntroductions{
        "the error that the other server returned was:", "the response from the remote server was:",
        "the response was:", "remote server returned '", "remote server replied:"};
    if (has("the error that") || has("the response") || has("remote server")) {
        const std::string lower_now = util::to_lower(rest);
        for (const std::string_view intro : kIntroductions) {
            if (const std::size_t at = lower_now.find(intro); at != std::string::npos) {
                rest = util::trim(rest.substr(at + intro.size()));
                break;
            }
        }
    }

    std::size_t text_from = 0;
    const std::size_t code_at = find_reply_code(rest);
    std::string code_string;
    std::string status_string;
    if (code_at != std::string_view::npos) {
        result.reply_code = parse_reply_code(rest.substr(code_at));
        code_string = std::string(rest.substr(code_at, 3));
        std::size_t after = code_at + 3;
        if (after < rest.size() &&
            (rest[after] == ' ' || rest[after] == '-' || rest[after] == '\t')) {
            ++after;
        }
        if (const std::size_t length = enhanced_status_length(rest.substr(after)); length > 0) {
            result.status = parse_enhanced_status(rest.substr(after, length));
            status_string = std::string(rest.substr(after, length));
        }
        // Text before the code is kept only when it says something ("Remote host said:"
        // is noise; "Recipient address rejected: 550" is not).
        text_from = code_at;
    }
    if (!result.status ||
        (result.status->klass == 2 && result.reply_code && *result.reply_code >= 400)) {
        const auto [pos, length] = find_enhanced_status(rest);
        if (pos != std::string_view::npos) {
            result.status = parse_enhanced_status(rest.substr(pos, length));
            if (code_at == std::string_view::npos && pos <= 1) {
                status_string = std::string(rest.substr(pos, length));
                text_from = pos;
            }
        }
    }
    if (result.reply_code && result.status && result.status->klass != *result.reply_code / 100) {
        result.classes_disagree = true;
    }

    std::string_view body = rest;
    std::string prefix_text;
    if (text_from > 0) {
        std::string_view before = util::trim(rest.substr(0, text_from));
        // "Remote host said:" and similar only announce the reply: drop them, keep what
        // precedes ("Connected to 192.0.2.1 but sender was rejected.").
        for (const std::string_view noise : {"remote host said:", "said:", "said"}) {
            if (before.size() >= noise.size() &&
                util::iequals(before.substr(before.size() - noise.size()), noise)) {
                before = util::trim(before.substr(0, before.size() - noise.size()));
                break;
            }
        }
        const bool noise = before.empty() || before.starts_with(">>>") ||
                           (before.ends_with(":") && before.find(' ') == std::string_view::npos);
        if (!noise) {
            prefix_text = std::string(before);
        }
        body = rest.substr(text_from);
    }
    std::string text;
    if (!code_string.empty()) {
        // The leading code (and its enhanced code) first, then every continuation prefix.
        body.remove_prefix(3);
        if (!body.empty() && (body[0] == ' ' || body[0] == '-' || body[0] == '\t')) {
            body.remove_prefix(1);
        }
        if (!status_string.empty() && body.starts_with(status_string)) {
            body.remove_prefix(status_string.size());
        }
        text = strip_reply_prefixes(body, code_string, status_string);
    } else if (!status_string.empty()) {
        text = std::string(body.substr(status_string.size()));
    } else {
        text = std::string(body);
    }
    if (!prefix_text.empty()) {
        text = prefix_text + " " + text;
    }
    result.text = collapse_spaces(text);
    return result;
}

}  // namespace mailwarden::smtp
