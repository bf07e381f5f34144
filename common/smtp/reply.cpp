#include "smtp/reply.hpp"

#include <fmt/format.h>

#include "smtp/enhanced_status.hpp"
#include "util/ascii.hpp"

namespace mailwarden::smtp {

namespace {

std::string clean_line(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            out.push_back('?');
        } else if (u < 0x20 || u == 0x7f) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return std::string(util::trim(out));
}

void wrap_into(std::string_view line, std::vector<std::string>& out) {
    while (line.size() > kMaxReplyLineLength) {
        auto cut = line.rfind(' ', kMaxReplyLineLength);
        if (cut == std::string_view::npos || cut == 0) {
            cut = kMaxReplyLineLength;
        }
        out.emplace_back(util::trim(line.substr(0, cut)));
        line = util::trim(line.substr(cut));
    }
    if (!line.empty()) {
        out.emplace_back(line);
    }
}

}  // namespace

util::Result<Reply> make_reply(int code, std::string_view enhanced,
                               const std::vector<std::string>& lines) {
    if (code < 400 || code > 599) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("reply code {} is not 4xx or 5xx", code));
    }
    Reply reply;
    reply.code = code;
    if (!enhanced.empty()) {
        const auto status = parse_enhanced_status(enhanced);
        if (!status) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("'{}' is not an enhanced status code", enhanced));
        }
        if (status->klass != code / 100) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("enhanced status {} does not match reply code {}",
                                          enhanced, code));
        }
        reply.enhanced = std::string(enhanced);
    }
    for (const auto& line : lines) {
        wrap_into(clean_line(line), reply.lines);
    }
    if (reply.lines.empty()) {
        reply.lines.emplace_back(code >= 500 ? "Message rejected" : "Try again later");
    }
    if (reply.lines.size() > kMaxReplyLines) {
        reply.lines.resize(kMaxReplyLines);
    }
    return reply;
}

std::string Reply::to_wire() const {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const char sep = (i + 1 == lines.size()) ? ' ' : '-';
        if (enhanced.empty()) {
            out += fmt::format("{}{}{}\r\n", code, sep, lines[i]);
        } else {
            out += fmt::format("{}{}{} {}\r\n", code, sep, enhanced, lines[i]);
        }
    }
    return out;
}

std::string Reply::summary() const {
    std::string text;
    for (const auto& line : lines) {
        if (!text.empty()) {
            text += " / ";
        }
        text += line;
    }
    return enhanced.empty() ? fmt::format("{} {}", code, text)
                            : fmt::format("{} {} {}", code, enhanced, text);
}

std::vector<std::string> split_reply_text(std::string_view text) {
    std::vector<std::string> lines;
    for (auto line : util::split(text, '\n')) {
        line = util::trim(line);
        if (!line.empty()) {
            lines.emplace_back(line);
        }
    }
    return lines;
}

}  // namespace mailwarden::smtp
