#include "milter/native/native_context.hpp"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include <cctype>

#include <fmt/format.h>

#include "milter/native/packet.hpp"
#include "milter/negotiation.hpp"

namespace mailwarden::milter::native {

namespace {

// libmilter's limits for smfi_setreply/smfi_setmlreply.
constexpr std::size_t kMaxReplyLineLength = 980;
constexpr std::size_t kMaxReplyLines = 32;

// An RFC 3463 status "c.sss.ddd" with 1-3 digits per part, as libmilter's myisenhsc checks.
bool valid_enhanced(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') {
        return false;
    }
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t digits = 0;
        while (i < s.size() && digits < 3 && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
            ++digits;
        }
        if (digits == 0) {
            return false;
        }
        if (part == 0) {
            if (i >= s.size() || s[i] != '.') {
                return false;
            }
            ++i;
        }
    }
    return i == s.size();
}

util::Result<void> refused(std::string_view what, std::string_view why) {
    return util::fail(util::ErrorCode::Unavailable, fmt::format("{} refused: {}", what, why));
}

}  // namespace

std::optional<std::size_t> MacroTable::slot_of(char stage) {
    switch (stage) {
        case SMFIC_CONNECT:
            return 0;
        case SMFIC_HELO:
            return 1;
        case SMFIC_MAIL:
            return 2;
        case SMFIC_RCPT:
            return 3;
        case SMFIC_DATA:
            return 4;
        case SMFIC_BODYEOB:
            return 5;
        case SMFIC_EOH:
            return 6;
        default:
            return std::nullopt;
    }
}

void MacroTable::set(std::size_t slot, std::vector<std::pair<std::string, std::string>> macros) {
    if (slot < kSlots) {
        slots_[slot] = std::move(macros);
    }
}

void MacroTable::clear_from(std::size_t from) {
    for (std::size_t i = from; i < kSlots; ++i) {
        slots_[i].clear();
    }
}

std::optional<std::string> MacroTable::find(std::string_view name) const {
    if (name.empty()) {
        return std::nullopt;
    }
    // "{x}" also matches "x", and "x" also matches "{x}".
    std::string other;
    if (name.size() == 3 && name.front() == '{' && name.back() == '}') {
        other = std::string(1, name[1]);
    } else if (name.size() == 1) {
        other = fmt::format("{{{}}}", name);
    }
    for (std::size_t i = kSlots; i-- > 0;) {
        for (const auto& [key, value] : slots_[i]) {
            if (key == name || (!other.empty() && key == other)) {
                return value;
            }
        }
    }
    return std::nullopt;
}

util::Result<std::string> format_reply_text(const smtp::Reply& reply) {
    if (reply.code < 400 || reply.code > 599) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("reply code {} is not 4xx or 5xx", reply.code));
    }
    if (!reply.enhanced.empty() && !valid_enhanced(reply.enhanced)) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("'{}' is not an enhanced status code", reply.enhanced));
    }
    if (reply.lines.size() > kMaxReplyLines) {
        return util::fail(util::ErrorCode::InvalidInput, "more than 32 reply lines");
    }
    std::vector<std::string> lines;
    for (const auto& line : reply.lines) {
        if (line.find_first_of("\r\n") != std::string::npos || line.size() > kMaxReplyLineLength) {
            return util::fail(util::ErrorCode::InvalidInput,
                              "a reply line has CR/LF or is longer than 980 octets");
        }
        lines.push_back(escape_reply_percent(line));
    }
    const std::string code = std::to_string(reply.code);
    if (lines.size() <= 1) {
        // smfi_setreply: "CODE [XCODE ]TEXT"; without an enhanced code none is made up.
        std::string text = code + " ";
        if (!reply.enhanced.empty()) {
            text += reply.enhanced;
            if (!lines.empty()) {
                text += ' ';
            }
        }
        if (!lines.empty()) {
            text += lines.front();
        }
        return text;
    }
    // smfi_setmlreply: every line "CODE-XCODE text", the last "CODE XCODE text".
    const std::string xcode =
        !reply.enhanced.empty() ? reply.enhanced : (reply.code < 500 ? "4.0.0" : "5.0.0");
    std::string text;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            text += "\r\n";
        }
        text += fmt::format("{}{}{} {}", code, i + 1 < lines.size() ? '-' : ' ', xcode, lines[i]);
    }
    return text;
}

std::optional<std::string> NativeMtaContext::take_reply(char klass) {
    if (!reply_ || reply_->empty() || reply_->front() != klass) {
        return std::nullopt;
    }
    auto text = std::move(reply_);
    reply_.reset();
    return text;
}

std::optional<std::string> NativeMtaContext::macro(std::string_view name) const {
    return macros_.find(name);
}

util::Result<void> NativeMtaContext::set_reply(const smtp::Reply& reply) {
    auto text = format_reply_text(reply);
    if (!text) {
        return std::unexpected(text.error());
    }
    reply_ = std::move(*text);
    return {};
}

util::Result<void> NativeMtaContext::allowed(unsigned long action, std::string_view what) const {
    if ((actions_ & action) == 0) {
        return refused(what, "the action was not negotiated with the MTA");
    }
    if (!end_of_message_) {
        return refused(what, "only allowed at end of message");
    }
    return {};
}

util::Result<void> NativeMtaContext::add_header(const std::string& name, const std::string& value) {
    if (auto ok = allowed(SMFIF_ADDHDRS, "adding a header"); !ok) {
        return ok;
    }
    if (name.empty()) {
        return refused("adding a header", "an empty name");
    }
    std::string payload = name;
    payload += '\0';
    payload += header_value_to_mta(value, protocol_);
    payload += '\0';
    append_packet(out_, SMFIR_ADDHEADER, payload);
    return {};
}

util::Result<void> NativeMtaContext::insert_header(int index, const std::string& name,
                                                   const std::string& value) {
    if (auto ok = allowed(SMFIF_ADDHDRS, "inserting a header"); !ok) {
        return ok;
    }
    if (index < 0 || name.empty()) {
        return refused("inserting a header", "a negative index or an empty name");
    }
    const std::uint32_t n = htonl(static_cast<std::uint32_t>(index));
    std::string payload(reinterpret_cast<const char*>(&n), sizeof n);
    payload += name;
    payload += '\0';
    payload += header_value_to_mta(value, protocol_);
    payload += '\0';
    append_packet(out_, SMFIR_INSHEADER, payload);
    return {};
}

util::Result<void> NativeMtaContext::remove_header(int index, const std::string& name) {
    if (auto ok = allowed(SMFIF_CHGHDRS, "removing a header"); !ok) {
        return ok;
    }
    if (index < 0 || name.empty()) {
        return refused("removing a header", "a negative index or an empty name");
    }
    const std::uint32_t n = htonl(static_cast<std::uint32_t>(index));
    std::string payload(reinterpret_cast<const char*>(&n), sizeof n);
    payload += name;
    payload += '\0';
    payload += '\0';  // an empty value removes the field
    append_packet(out_, SMFIR_CHGHEADER, payload);
    return {};
}

util::Result<void> NativeMtaContext::quarantine(const std::string& reason) {
    if (reason.empty()) {
        return refused("quarantine", "an empty reason");
    }
    if (auto ok = allowed(SMFIF_QUARANTINE, "quarantine"); !ok) {
        return ok;
    }
    std::string payload = reason;
    payload += '\0';
    append_packet(out_, SMFIR_QUARANTINE, payload);
    return {};
}

util::Result<void> NativeMtaContext::replace_body(const std::string& body) {
    if (auto ok = allowed(SMFIF_CHGBODY, "replacing the body"); !ok) {
        return ok;
    }
    if (body.empty()) {
        append_packet(out_, SMFIR_REPLBODY, {});
        return {};
    }
    for (std::size_t off = 0; off < body.size(); off += kMaxBodyChunk) {
        append_packet(out_, SMFIR_REPLBODY, body.substr(off, kMaxBodyChunk));
    }
    return {};
}

}  // namespace mailwarden::milter::native
