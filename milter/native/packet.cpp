#include "milter/native/packet.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace mailwarden::milter::native {

namespace {

constexpr std::size_t kLengthBytes = 4;

std::uint32_t read_u32(const char* p) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return ntohl(v);
}

void append_u32(std::string& out, std::uint32_t v) {
    const std::uint32_t n = htonl(v);
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
}

}  // namespace

std::span<char> PacketReader::write_area(std::size_t min_free) {
    if (begin_ == end_) {
        begin_ = end_ = 0;
    }
    if (buffer_.size() - end_ < min_free) {
        // Move what is left to the front first; grow only when that is not enough.
        if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() - end_ < min_free) {
            buffer_.resize(end_ + min_free);
        }
    }
    return {buffer_.data() + end_, buffer_.size() - end_};
}

void PacketReader::commit(std::size_t n) {
    end_ += std::min(n, buffer_.size() - end_);
}

PacketReader::Status PacketReader::next(PacketView& packet) {
    const std::size_t available = end_ - begin_;
    if (available < kLengthBytes) {
        return Status::NeedMore;
    }
    const std::uint32_t length = read_u32(buffer_.data() + begin_);
    if (length == 0 || length > kMaxPayload + 1) {
        return Status::Malformed;
    }
    if (available < kLengthBytes + length) {
        return Status::NeedMore;
    }
    const char* start = buffer_.data() + begin_ + kLengthBytes;
    packet.command = start[0];
    packet.payload = std::string_view(start + 1, length - 1);
    begin_ += kLengthBytes + length;
    return Status::Packet;
}

void append_packet(std::string& out, char command, std::string_view payload) {
    append_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
    out += command;
    out.append(payload);
}

std::optional<std::vector<std::string_view>> split_strings(std::string_view payload) {
    if (payload.find('\0') == std::string_view::npos) {
        return std::nullopt;
    }
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t nul = payload.find('\0'); nul != std::string_view::npos;
         nul = payload.find('\0', start)) {
        parts.push_back(payload.substr(start, nul - start));
        start = nul + 1;
    }
    return parts;
}

std::optional<std::pair<std::string_view, std::string_view>> decode_header(
    std::string_view payload) {
    if (payload.empty() || payload.back() != '\0') {
        return std::nullopt;
    }
    // The name ends at the first NUL after its first octet; a value must follow it.
    const std::size_t nul = payload.find('\0', 1);
    if (nul >= payload.size() - 1) {
        return std::nullopt;
    }
    const std::string_view name = payload.substr(0, nul);
    const std::string_view rest = payload.substr(nul + 1);
    return std::pair{name, rest.substr(0, rest.find('\0'))};
}

std::optional<std::string_view> decode_helo(std::string_view payload) {
    if (payload.empty() || payload.back() != '\0') {
        return std::nullopt;
    }
    return payload.substr(0, payload.find('\0'));
}

std::optional<ConnectInfo> decode_connect(std::string_view payload) {
    ConnectInfo info;
    const std::size_t nul = payload.find('\0');
    if (nul == std::string_view::npos || nul + 1 >= payload.size()) {
        return std::nullopt;
    }
    info.hostname = payload.substr(0, nul);
    std::size_t i = nul + 1;
    info.family = payload[i++];
    if (info.family == 'U') {
        return info;
    }
    if (info.family != '4' && info.family != '6' && info.family != 'L') {
        return std::nullopt;
    }
    if (i + 2 >= payload.size() || payload.back() != '\0') {
        return std::nullopt;
    }
    info.port = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[i]) << 8) |
                                           static_cast<unsigned char>(payload[i + 1]));
    i += 2;
    const std::string_view rest = payload.substr(i);
    info.address = rest.substr(0, rest.find('\0'));
    return info;
}

std::optional<OptionOffer> decode_optneg(std::string_view payload) {
    if (payload.size() < 3 * kLengthBytes) {
        return std::nullopt;
    }
    return OptionOffer{read_u32(payload.data()), read_u32(payload.data() + 4),
                       read_u32(payload.data() + 8)};
}

std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t protocol,
                          std::span<const std::pair<std::uint32_t, std::string_view>> symlists) {
    std::string out;
    append_u32(out, version);
    append_u32(out, actions);
    append_u32(out, protocol);
    for (const auto& [stage, names] : symlists) {
        append_u32(out, stage);
        out.append(names);
        out += '\0';
    }
    return out;
}

std::optional<MacroPacket> decode_macros(std::string_view payload) {
    if (payload.empty()) {
        return std::nullopt;
    }
    auto parts = split_strings(payload.substr(1));
    if (!parts) {
        return std::nullopt;
    }
    MacroPacket packet;
    packet.stage = payload.front();
    for (std::size_t i = 0; i + 1 < parts->size(); i += 2) {
        packet.pairs.emplace_back((*parts)[i], (*parts)[i + 1]);
    }
    return packet;
}

}  // namespace mailwarden::milter::native
