// packet.hpp - the milter wire format (protocol version 6) as the MTA-facing side reads and
// writes it: framing (4-byte big-endian length, command byte, payload), a read buffer that
// holds many packets of one read(), the replies, and the payload decoders of every SMFIC_*
// command mailwarden handles, with libmilter's rules for what is malformed.
//
// Nothing here does I/O or throws: a decoder answers nullopt for a payload libmilter would
// refuse, and the connection decides what to do (mostly: close it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::milter::native {

/// The largest payload accepted in one packet. Postfix and Sendmail send body chunks of at
/// most 65535 octets; a header of Postfix's header_size_limit (100 KiB) also fits. A length
/// above it is garbage and ends the connection, which bounds the memory of one connection.
inline constexpr std::size_t kMaxPayload = 256 * 1024;
/// Largest SMFIR_REPLBODY chunk (libmilter's MILTER_CHUNK_SIZE).
inline constexpr std::size_t kMaxBodyChunk = 65535;

/// One packet: command byte and payload (a view into the reader's buffer).
struct PacketView {
    char command = 0;
    std::string_view payload;
};

/// Accumulates what the socket delivers and hands out complete packets. A packet stays
/// valid until the next call of next(), compact() or the next write into the buffer.
class PacketReader {
  public:
    enum class Status { Packet, NeedMore, Malformed };

    /// The free space to read into (at least `min_free` octets, growing the buffer).
    std::span<char> write_area(std::size_t min_free = 64 * 1024);
    /// Marks `n` octets of write_area() as filled.
    void commit(std::size_t n);
    /// The next complete packet, NeedMore when it is incomplete, Malformed for a length of
    /// zero or above kMaxPayload + 1 (the length counts the command byte).
    Status next(PacketView& packet);
    /// Octets received but not yet handed out.
    std::size_t buffered() const noexcept { return end_ - begin_; }

  private:
    std::vector<char> buffer_;
    std::size_t begin_ = 0;  ///< start of the first packet not handed out
    std::size_t end_ = 0;    ///< end of the data received
};

/// Appends one framed packet to `out`.
void append_packet(std::string& out, char command, std::string_view payload = {});

/// The NUL-terminated strings of a payload, as libmilter's dec_argv splits them (MAIL, RCPT,
/// macro values): an unterminated tail is dropped; nullopt when there is no NUL at all.
std::optional<std::vector<std::string_view>> split_strings(std::string_view payload);

/// SMFIC_HEADER: name and value, both NUL-terminated; nullopt otherwise.
std::optional<std::pair<std::string_view, std::string_view>> decode_header(
    std::string_view payload);

/// SMFIC_HELO: the NUL-terminated name; nullopt otherwise.
std::optional<std::string_view> decode_helo(std::string_view payload);

/// SMFIC_CONNECT: host name, family ('4', '6', 'L', 'U'), port (host order), address.
struct ConnectInfo {
    std::string_view hostname;
    char family = 'U';
    std::uint16_t port = 0;
    std::string_view address;
};
/// nullopt for a payload libmilter refuses (cut short, unterminated, family unknown).
std::optional<ConnectInfo> decode_connect(std::string_view payload);

/// SMFIC_OPTNEG from the MTA: version, actions, protocol (further octets are ignored).
struct OptionOffer {
    std::uint32_t version = 0;
    std::uint32_t actions = 0;
    std::uint32_t protocol = 0;
};
/// nullopt when shorter than 12 octets.
std::optional<OptionOffer> decode_optneg(std::string_view payload);

/// The SMFIC_OPTNEG answer: version, actions, protocol and SMFIR_SETSYMLIST entries.
std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t protocol,
                          std::span<const std::pair<std::uint32_t, std::string_view>> symlists);

/// SMFIC_MACRO: the stage command byte and name/value pairs (a trailing name without value
/// is dropped); nullopt for an empty or unterminated payload.
struct MacroPacket {
    char stage = 0;
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
};
std::optional<MacroPacket> decode_macros(std::string_view payload);

}  // namespace mailwarden::milter::native
