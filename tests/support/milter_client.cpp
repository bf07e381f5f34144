// milter_client.cpp - framing, negotiation, stages and reply parsing of the MTA side.
//
// Every packet is `uint32 length (network order) | command | payload`. Macro packets and
// the stage packet they precede go out in one write, as Postfix writes them in one VSTREAM
// flush: two small writes would meet Nagle's algorithm on the client side.
#include "support/milter_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace mailwarden::testing {

using util::ErrorCode;
using util::fail;
using util::Result;

namespace {

constexpr std::size_t kMaxPacket = 4u << 20;  // larger than any sane milter reply

using Clock = std::chrono::steady_clock;

void put_u32(std::string& out, std::uint32_t value) {
    const std::uint32_t be = htonl(value);
    out.append(reinterpret_cast<const char*>(&be), 4);
}

std::uint32_t get_u32(std::string_view in) {
    std::uint32_t be = 0;
    std::memcpy(&be, in.data(), 4);
    return ntohl(be);
}

std::string frame(char command, std::string_view data) {
    std::string out;
    out.reserve(data.size() + 5);
    put_u32(out, static_cast<std::uint32_t>(data.size() + 1));
    out.push_back(command);
    out.append(data);
    return out;
}

// Splits a payload into NUL-terminated strings; nullopt unless every string is terminated
// and their number is within [min_count, max_count].
std::optional<std::vector<std::string>> split_nul(std::string_view data, std::size_t min_count,
                                                  std::size_t max_count) {
    std::vector<std::string> parts;
    while (!data.empty()) {
        const auto nul = data.find('\0');
        if (nul == std::string_view::npos) {
            return std::nullopt;  // unterminated string
        }
        parts.emplace_back(data.substr(0, nul));
        data.remove_prefix(nul + 1);
    }
    if (parts.size() < min_count || parts.size() > max_count) {
        return std::nullopt;
    }
    return parts;
}

std::string strip_brackets(std::string_view addr) {
    if (addr.size() >= 2 && addr.front() == '<' && addr.back() == '>') {
        addr = addr.substr(1, addr.size() - 2);
    }
    return std::string(addr);
}

std::string domain_of(std::string_view addr) {
    const auto at = addr.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(addr.substr(at + 1));
}

bool iequals(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

Result<int> connect_fd(const sockaddr* addr, socklen_t len, int family,
                       std::chrono::milliseconds timeout, std::string_view what) {
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return fail(ErrorCode::Unavailable, fmt::format("socket: {}", std::strerror(errno)));
    }
    int rc = ::connect(fd, addr, len);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (rc == 0) {
            ::close(fd);
            return fail(ErrorCode::Timeout, fmt::format("connect to {}: timed out", what));
        }
        int err = 0;
        socklen_t err_len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
        if (err != 0) {
            ::close(fd);
            return fail(ErrorCode::Unavailable,
                        fmt::format("connect to {}: {}", what, std::strerror(err)));
        }
        rc = 0;
    }
    if (rc != 0) {
        const int err = errno;
        ::close(fd);
        return fail(ErrorCode::Unavailable,
                    fmt::format("connect to {}: {}", what, std::strerror(err)));
    }
    return fd;
}

// The SMFIP_NO* flag that suppresses a stage, and the SMFIP_NR_* flag that suppresses
// its reply.
std::uint32_t skip_flag(Stage stage) {
    switch (stage) {
        case Stage::Connect:
            return milter::kNoConnect;
        case Stage::Helo:
            return milter::kNoHelo;
        case Stage::Mail:
            return milter::kNoMail;
        case Stage::Rcpt:
            return milter::kNoRcpt;
        case Stage::Data:
            return milter::kNoData;
        case Stage::Header:
            return milter::kNoHeaders;
        case Stage::EndOfHeaders:
            return milter::kNoEoh;
        case Stage::Body:
            return milter::kNoBody;
        case Stage::Unknown:
            return milter::kNoUnknown;
        case Stage::EndOfMessage:
            return 0;
    }
    return 0;
}

std::uint32_t no_reply_flag(Stage stage) {
    switch (stage) {
        case Stage::Connect:
            return milter::kNrConnect;
        case Stage::Helo:
            return milter::kNrHelo;
        case Stage::Mail:
            return milter::kNrMail;
        case Stage::Rcpt:
            return milter::kNrRcpt;
        case Stage::Data:
            return milter::kNrData;
        case Stage::Header:
            return milter::kNrHeader;
        case Stage::EndOfHeaders:
            return milter::kNrEoh;
        case Stage::Body:
            return milter::kNrBody;
        case Stage::Unknown:
            return milter::kNrUnknown;
        case Stage::EndOfMessage:
            return 0;
    }
    return 0;
}

}  // namespace

std::string_view to_string(Stage stage) {
    switch (stage) {
        case Stage::Connect:
            return "connect";
        case Stage::Helo:
            return "helo";
        case Stage::Mail:
            return "mail";
        case Stage::Rcpt:
            return "rcpt";
        case Stage::Data:
            return "data";
        case Stage::Header:
            return "header";
        case Stage::EndOfHeaders:
            return "eoh";
        case Stage::Body:
            return "body";
        case Stage::EndOfMessage:
            return "eom";
        case Stage::Unknown:
            return "unknown";
    }
    return "?";
}

std::string_view to_string(ReplyKind kind) {
    switch (kind) {
        case ReplyKind::None:
            return "none";
        case ReplyKind::Continue:
            return "continue";
        case ReplyKind::Accept:
            return "accept";
        case ReplyKind::Reject:
            return "reject";
        case ReplyKind::Tempfail:
            return "tempfail";
        case ReplyKind::Discard:
            return "discard";
        case ReplyKind::ReplyCode:
            return "replycode";
        case ReplyKind::Skip:
            return "skip";
        case ReplyKind::ConnFail:
            return "connfail";
        case ReplyKind::Shutdown:
            return "shutdown";
    }
    return "?";
}

std::string nul_join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) {
        out.append(part);
        out.push_back('\0');
    }
    return out;
}

int StageReply::code() const {
    if (kind != ReplyKind::ReplyCode || text.size() < 3) {
        return 0;
    }
    return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
}

bool StageReply::is_final() const {
    switch (kind) {
        case ReplyKind::Accept:
        case ReplyKind::Reject:
        case ReplyKind::Tempfail:
        case ReplyKind::Discard:
        case ReplyKind::ReplyCode:
        case ReplyKind::ConnFail:
        case ReplyKind::Shutdown:
            return true;
        default:
            return false;
    }
}

std::string MessageResult::final_action() const {
    switch (decisive.kind) {
        case ReplyKind::Accept:
        case ReplyKind::Continue:
        case ReplyKind::None:
        case ReplyKind::Skip:
            if (decided_at != Stage::EndOfMessage && decisive.kind != ReplyKind::Accept) {
                return "continue";
            }
            return quarantine_reason ? "quarantine" : "accept";
        case ReplyKind::Reject:
            return "reject";
        case ReplyKind::Tempfail:
            return "tempfail";
        case ReplyKind::Discard:
            return "discard";
        case ReplyKind::ReplyCode:
            return decisive.code() / 100 == 4 ? "tempfail" : "reject";
        case ReplyKind::ConnFail:
            return "connfail";
        case ReplyKind::Shutdown:
            return "shutdown";
    }
    return "?";
}

std::optional<std::string> MessageResult::added_header(std::string_view name) const {
    for (const auto& edit : header_edits) {
        if ((edit.kind == Modification::Kind::AddHeader ||
             edit.kind == Modification::Kind::InsertHeader) &&
            iequals(edit.name, name)) {
            return edit.value;
        }
    }
    return std::nullopt;
}

PostfixMacros PostfixMacros::defaults(const ConnectInfo& client, std::string queue_id) {
    PostfixMacros m;
    m.connect = {{"j", "mx.local.test"},
                 {"{daemon_name}", "mx.local.test"},
                 {"{daemon_addr}", "127.0.0.1"},
                 {"v", "Postfix 3.7.11"},
                 {"_", fmt::format("{} [{}]", client.hostname, client.address)}};
    m.data = {{"i", queue_id}};
    m.end_of_data = {{"i", queue_id}};
    return m;
}

// ---------------------------------------------------------------------- connection

Result<MilterClient> MilterClient::connect(std::string_view socket, Duration timeout, bool nagle) {
    const auto colon = socket.find(':');
    if (colon == std::string_view::npos) {
        return fail(ErrorCode::InvalidInput, fmt::format("bad socket '{}'", socket));
    }
    const std::string_view scheme = socket.substr(0, colon);
    const std::string_view rest = socket.substr(colon + 1);
    if (scheme == "unix" || scheme == "local") {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (rest.empty() || rest.size() >= sizeof sun.sun_path) {
            return fail(ErrorCode::InvalidInput, fmt::format("bad unix socket '{}'", socket));
        }
        std::memcpy(sun.sun_path, rest.data(), rest.size());
        auto fd =
            connect_fd(reinterpret_cast<sockaddr*>(&sun), sizeof sun, AF_UNIX, timeout, socket);
        if (!fd) {
            return std::unexpected(fd.error());
        }
        return MilterClient(*fd);
    }
    if (scheme != "inet" && scheme != "inet6") {
        return fail(ErrorCode::InvalidInput, fmt::format("bad socket scheme in '{}'", socket));
    }
    std::string host;
    std::string port;
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        port = rest.substr(0, at);  // PORT@HOST (libmilter)
        host = rest.substr(at + 1);
    } else if (const auto last = rest.rfind(':'); last != std::string_view::npos) {
        host = rest.substr(0, last);  // HOST:PORT (Postfix), [v6]:PORT
        port = rest.substr(last + 1);
    } else {
        return fail(ErrorCode::InvalidInput, fmt::format("no port in '{}'", socket));
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_family = scheme == "inet6" ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("resolve '{}': {}", socket, ::gai_strerror(rc)));
    }
    auto fd = connect_fd(found->ai_addr, found->ai_addrlen, found->ai_family, timeout, socket);
    ::freeaddrinfo(found);
    if (!fd) {
        return std::unexpected(fd.error());
    }
    if (!nagle) {
        const int on = 1;
        ::setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    return MilterClient(*fd);
}

MilterClient::MilterClient(MilterClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      write_buffer_bytes_(other.write_buffer_bytes_),
      pending_(std::move(other.pending_)),
      timeout_(other.timeout_),
      negotiated_(std::move(other.negotiated_)),
      negotiated_done_(other.negotiated_done_) {}

MilterClient& MilterClient::operator=(MilterClient&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        write_buffer_bytes_ = other.write_buffer_bytes_;
        pending_ = std::move(other.pending_);
        timeout_ = other.timeout_;
        negotiated_ = std::move(other.negotiated_);
        negotiated_done_ = other.negotiated_done_;
    }
    return *this;
}

MilterClient::~MilterClient() {
    close();
}

void MilterClient::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

// ---------------------------------------------------------------------- raw I/O

Result<void> MilterClient::send_raw(std::string_view bytes) {
    if (write_buffer_bytes_ == 0) {
        return write_all(bytes);
    }
    if (fd_ < 0) {
        return fail(ErrorCode::Unavailable, "connection closed");
    }
    pending_.append(bytes);
    return pending_.size() >= write_buffer_bytes_ ? flush() : Result<void>{};
}

Result<void> MilterClient::flush() {
    if (pending_.empty()) {
        return {};
    }
    const std::string bytes = std::exchange(pending_, {});
    return write_all(bytes);
}

Result<void> MilterClient::write_all(std::string_view bytes) {
    if (fd_ < 0) {
        return fail(ErrorCode::Unavailable, "connection closed");
    }
    const auto deadline = Clock::now() + timeout_;
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
            pollfd p{fd_, POLLOUT, 0};
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
                return fail(ErrorCode::Timeout, "write to milter timed out");
            }
            continue;
        }
        return fail(ErrorCode::Unavailable,
                    fmt::format("write to milter: {}", std::strerror(errno)));
    }
    return {};
}

Result<void> MilterClient::send_packet(char command, std::string_view data) {
    return send_raw(frame(command, data));
}

Result<Packet> MilterClient::read_packet() {
    if (fd_ < 0) {
        return fail(ErrorCode::Unavailable, "connection closed");
    }
    if (auto ok = flush(); !ok) {  // what is buffered comes before the reply
        return std::unexpected(ok.error());
    }
    const auto deadline = Clock::now() + timeout_;
    auto read_exact = [&](char* out, std::size_t len) -> Result<void> {
        std::size_t got = 0;
        while (got < len) {
            const ssize_t n = ::recv(fd_, out + got, len - got, 0);
            if (n > 0) {
                got += static_cast<std::size_t>(n);
                continue;
            }
            if (n == 0) {
                return fail(ErrorCode::Unavailable, "milter closed the connection");
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return fail(ErrorCode::Unavailable,
                            fmt::format("read from milter: {}", std::strerror(errno)));
            }
            const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
            pollfd p{fd_, POLLIN, 0};
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
                return fail(ErrorCode::Timeout, "read from milter timed out");
            }
        }
        return {};
    };
    char header[4];
    if (auto ok = read_exact(header, 4); !ok) {
        return std::unexpected(ok.error());
    }
    const std::uint32_t len = get_u32(std::string_view(header, 4));
    if (len == 0 || len > kMaxPacket) {
        return fail(ErrorCode::InvalidInput, fmt::format("bad packet length {}", len));
    }
    std::string buf(len, '\0');
    if (auto ok = read_exact(buf.data(), len); !ok) {
        return std::unexpected(ok.error());
    }
    Packet packet;
    packet.command = buf[0];
    packet.data = buf.substr(1);
    return packet;
}

bool MilterClient::peer_closed(Duration wait) {
    if (fd_ < 0) {
        return true;
    }
    if (!flush()) {
        return true;
    }
    const auto deadline = Clock::now() + wait;
    for (;;) {
        const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now()).count();
        pollfd p{fd_, POLLIN, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(std::max<long>(left, 0)));
        if (rc <= 0) {
            return false;
        }
        char c[512];
        const ssize_t n = ::recv(fd_, c, sizeof c, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            return true;
        }
        // Data (a late reply) is discarded; keep waiting for the close.
    }
}

// ---------------------------------------------------------------------- negotiation

Result<Negotiated> MilterClient::negotiate(std::uint32_t version, std::uint32_t actions,
                                           std::uint32_t protocol) {
    std::string data;
    put_u32(data, version);
    put_u32(data, actions);
    put_u32(data, protocol);
    if (auto ok = send_packet('O', data); !ok) {
        return std::unexpected(ok.error());
    }
    auto packet = read_packet();
    if (!packet) {
        return std::unexpected(packet.error());
    }
    if (packet->command != 'O' || packet->data.size() < 12) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("bad option negotiation reply: command '{}', {} bytes",
                                packet->command, packet->data.size()));
    }
    Negotiated n;
    std::string_view in = packet->data;
    n.version = get_u32(in);
    n.actions = get_u32(in.substr(4));
    n.protocol = get_u32(in.substr(8));
    in.remove_prefix(12);
    while (!in.empty()) {
        if (in.size() < 5) {
            return fail(ErrorCode::InvalidInput, "truncated macro list in negotiation reply");
        }
        const std::uint32_t where = get_u32(in);
        in.remove_prefix(4);
        const auto nul = in.find('\0');
        if (nul == std::string_view::npos) {
            return fail(ErrorCode::InvalidInput, "unterminated macro list in negotiation reply");
        }
        n.symlists.emplace_back(where, std::string(in.substr(0, nul)));
        in.remove_prefix(nul + 1);
    }
    if ((n.actions & ~actions) != 0) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("milter asked for actions 0x{:x} not offered (0x{:x})", n.actions,
                                actions));
    }
    // The protocol flags the milter set are honoured as far as they were offered.
    negotiated_ = n;
    negotiated_.protocol &= protocol;
    negotiated_done_ = true;
    return n;
}

bool MilterClient::skips(Stage stage) const {
    return negotiated_done_ && (negotiated_.protocol & skip_flag(stage)) != 0;
}

bool MilterClient::no_reply(Stage stage) const {
    return negotiated_done_ && (negotiated_.protocol & no_reply_flag(stage)) != 0;
}

// ---------------------------------------------------------------------- stages

Result<StageReply> MilterClient::stage(Stage which, std::string_view data, const Macros& macros) {
    std::string out;
    if (!macros.empty()) {
        std::string m(1, static_cast<char>(which));
        for (const auto& [name, value] : macros) {
            m.append(name).push_back('\0');
            m.append(value).push_back('\0');
        }
        out = frame('D', m);
    }
    StageReply reply;
    reply.stage = which;
    if (skips(which)) {
        // Postfix still sends the stage's macros, then skips the event itself.
        if (!out.empty()) {
            if (auto ok = send_raw(out); !ok) {
                return std::unexpected(ok.error());
            }
        }
        return reply;
    }
    out.append(frame(static_cast<char>(which), data));
    if (auto ok = send_raw(out); !ok) {
        return std::unexpected(ok.error());
    }
    if (no_reply(which)) {
        return reply;
    }
    return read_reply(which);
}

Result<StageReply> MilterClient::read_reply(Stage which) {
    StageReply reply;
    reply.stage = which;
    for (int packets = 0; packets < 100000; ++packets) {
        auto packet = read_packet();
        if (!packet) {
            return std::unexpected(packet.error());
        }
        const char cmd = packet->command;
        const std::string& d = packet->data;
        auto malformed = [&](std::string_view why) {
            return fail(ErrorCode::InvalidInput,
                        fmt::format("malformed '{}' reply at {}: {}", cmd, to_string(which), why));
        };
        switch (cmd) {
            case 'c':
            case 'a':
            case 'r':
            case 't':
            case 'd':
            case 'f':
            case '4':
                reply.kind = static_cast<ReplyKind>(cmd);
                return reply;
            case 's':
                if (which != Stage::Body) {
                    return malformed("skip outside the body stage");
                }
                reply.kind = ReplyKind::Skip;
                return reply;
            case 'y': {
                auto parts = split_nul(d, 1, 1);
                if (!parts) {
                    return malformed("reply text not NUL-terminated");
                }
                std::string text = std::move((*parts)[0]);
                if (text.size() < 3 || (text[0] != '4' && text[0] != '5') ||
                    !std::isdigit(static_cast<unsigned char>(text[1])) ||
                    !std::isdigit(static_cast<unsigned char>(text[2])) ||
                    (text.size() > 3 && text[3] != ' ' && text[3] != '-')) {
                    return malformed(fmt::format("not an SMTP 4xx/5xx reply: '{}'", text));
                }
                reply.kind = ReplyKind::ReplyCode;
                reply.text = std::move(text);
                return reply;
            }
            case 'p':
                ++reply.progress;
                continue;
            default:
                break;
        }
        // Everything else is a modification request: only valid at end of message.
        if (which != Stage::EndOfMessage) {
            return fail(ErrorCode::InvalidInput,
                        fmt::format("unexpected reply '{}' (0x{:02x}) at {}",
                                    std::isprint(static_cast<unsigned char>(cmd)) ? cmd : '?',
                                    static_cast<unsigned char>(cmd), to_string(which)));
        }
        Modification mod;
        mod.kind = static_cast<Modification::Kind>(cmd);
        switch (cmd) {
            case 'h': {
                auto parts = split_nul(d, 2, 2);
                if (!parts) {
                    return malformed("want name\\0value\\0");
                }
                mod.name = (*parts)[0];
                mod.value = header_value_as_written((*parts)[1]);
                break;
            }
            case 'i':
            case 'm': {
                if (d.size() < 4) {
                    return malformed("no header index");
                }
                mod.index = get_u32(d);
                auto parts = split_nul(std::string_view(d).substr(4), 2, 2);
                if (!parts) {
                    return malformed("want index name\\0value\\0");
                }
                mod.name = (*parts)[0];
                mod.value = header_value_as_written((*parts)[1]);
                break;
            }
            case 'b':
                mod.value = d;
                break;
            case '+':
            case '-':
            case 'q': {
                auto parts = split_nul(d, 1, 1);
                if (!parts) {
                    return malformed("want one NUL-terminated string");
                }
                mod.name = (*parts)[0];
                break;
            }
            case '2':
            case 'e': {
                auto parts = split_nul(d, 1, 2);
                if (!parts) {
                    return malformed("want address\\0[args\\0]");
                }
                mod.name = (*parts)[0];
                if (parts->size() > 1) {
                    mod.value = (*parts)[1];
                }
                break;
            }
            default:
                return fail(ErrorCode::InvalidInput,
                            fmt::format("unknown reply command 0x{:02x} at end of message",
                                        static_cast<unsigned char>(cmd)));
        }
        reply.modifications.push_back(std::move(mod));
    }
    return fail(ErrorCode::InvalidInput, "too many packets without a final reply");
}

Result<StageReply> MilterClient::connect_stage(const ConnectInfo& info, const Macros& macros) {
    std::string data = info.hostname;
    data.push_back('\0');
    data.push_back(info.family);
    if (info.family != 'U') {
        const std::uint16_t port = htons(info.port);
        data.append(reinterpret_cast<const char*>(&port), 2);
        data.append(info.address).push_back('\0');
    }
    return stage(Stage::Connect, data, macros);
}

Result<StageReply> MilterClient::helo(std::string_view name, const Macros& macros) {
    return stage(Stage::Helo, nul_join({std::string(name)}), macros);
}

Result<StageReply> MilterClient::mail(const std::vector<std::string>& args, const Macros& macros) {
    return stage(Stage::Mail, nul_join(args), macros);
}

Result<StageReply> MilterClient::rcpt(const std::vector<std::string>& args, const Macros& macros) {
    return stage(Stage::Rcpt, nul_join(args), macros);
}

Result<StageReply> MilterClient::data(const Macros& macros) {
    return stage(Stage::Data, {}, macros);
}

std::string MilterClient::header_value_as_written(std::string value) const {
    // Under SMFIP_HDR_LEADSPC Postfix writes "Name:" and the value verbatim, so the milter
    // sends the space itself; report the value as it follows "Name: " either way (the e2e
    // tests see what Postfix really writes).
    if ((negotiated_.protocol & milter::kHeaderLeadingSpace) != 0 && value.starts_with(' ')) {
        value.erase(0, 1);
    }
    return value;
}

Result<StageReply> MilterClient::header(std::string_view name, std::string_view value,
                                        const Macros& macros) {
    std::string v(value);
    if ((negotiated_.protocol & milter::kHeaderLeadingSpace) != 0) {
        v.insert(0, " ");  // Postfix keeps the space after the colon when asked to
    }
    return stage(Stage::Header, nul_join({std::string(name), v}), macros);
}

Result<StageReply> MilterClient::end_of_headers(const Macros& macros) {
    return stage(Stage::EndOfHeaders, {}, macros);
}

Result<StageReply> MilterClient::body_chunk(std::string_view chunk, const Macros& macros) {
    if (chunk.size() > milter::kMaxBodyChunk) {
        return fail(ErrorCode::InvalidInput, "body chunk larger than 64 KiB");
    }
    return stage(Stage::Body, chunk, macros);
}

Result<StageReply> MilterClient::body(std::string_view body, const Macros& macros,
                                      std::size_t chunk_size) {
    chunk_size = std::clamp<std::size_t>(chunk_size, 1, milter::kMaxBodyChunk);
    StageReply last;
    last.stage = Stage::Body;
    while (!body.empty()) {
        const auto n = std::min(chunk_size, body.size());
        auto reply = body_chunk(body.substr(0, n), macros);
        if (!reply) {
            return reply;
        }
        body.remove_prefix(n);
        last = *reply;
        if (reply->kind != ReplyKind::None && reply->kind != ReplyKind::Continue) {
            break;
        }
    }
    return last;
}

Result<StageReply> MilterClient::end_of_message(const Macros& macros) {
    return stage(Stage::EndOfMessage, {}, macros);
}

Result<StageReply> MilterClient::unknown(std::string_view command, const Macros& macros) {
    return stage(Stage::Unknown, nul_join({std::string(command)}), macros);
}

Result<void> MilterClient::abort() {
    return send_packet('A', {});
}

Result<void> MilterClient::quit() {
    if (auto ok = send_packet('Q', {}); !ok) {
        return ok;
    }
    return flush();  // the last packet of the connection
}

// ---------------------------------------------------------------------- one message

Result<MessageResult> MilterClient::send_message(const MessageSpec& msg, const PostfixMacros& pm) {
    MessageResult result;
    auto finish = [&](Stage at, StageReply reply) -> Result<MessageResult> {
        result.decided_at = at;
        result.decisive = std::move(reply);
        if (auto ok = abort(); !ok) {
            return std::unexpected(ok.error());
        }
        return result;
    };
    auto macros_or_none = [&](const Macros& m) { return msg.send_macros ? m : Macros{}; };

    // MAIL
    Macros mail_macros = pm.mail;
    if (mail_macros.empty() && !msg.mail_args.empty()) {
        const std::string addr = strip_brackets(msg.mail_args.front());
        mail_macros = {
            {"{mail_addr}", addr}, {"{mail_host}", domain_of(addr)}, {"{mail_mailer}", "smtp"}};
    }
    if (!msg.auth_login.empty()) {
        mail_macros.emplace_back("{auth_type}", "PLAIN");
        mail_macros.emplace_back("{auth_authen}", msg.auth_login);
    }
    mail_macros.insert(mail_macros.end(), msg.extra_mail_macros.begin(),
                       msg.extra_mail_macros.end());
    auto mail_reply = mail(msg.mail_args, macros_or_none(mail_macros));
    if (!mail_reply) {
        return std::unexpected(mail_reply.error());
    }
    if (mail_reply->is_final()) {
        return finish(Stage::Mail, *mail_reply);
    }

    // RCPT: a rejected recipient is dropped; accept or discard decide the message.
    std::size_t accepted = 0;
    StageReply last_rcpt;
    for (const auto& args : msg.rcpts) {
        Macros rcpt_macros = pm.rcpt;
        if (rcpt_macros.empty() && !args.empty()) {
            const std::string addr = strip_brackets(args.front());
            rcpt_macros = {
                {"{rcpt_addr}", addr}, {"{rcpt_host}", domain_of(addr)}, {"{rcpt_mailer}", "smtp"}};
        }
        auto reply = rcpt(args, macros_or_none(rcpt_macros));
        if (!reply) {
            return std::unexpected(reply.error());
        }
        result.rcpt_replies.push_back(*reply);
        last_rcpt = *reply;
        switch (reply->kind) {
            case ReplyKind::Reject:
            case ReplyKind::Tempfail:
            case ReplyKind::ReplyCode:
                break;
            case ReplyKind::Accept:
            case ReplyKind::Discard:
            case ReplyKind::ConnFail:
            case ReplyKind::Shutdown:
                return finish(Stage::Rcpt, *reply);
            default:
                ++accepted;
                break;
        }
    }
    if (accepted == 0) {
        return finish(Stage::Rcpt, last_rcpt);
    }

    // DATA, headers, end of headers, body, end of message.
    auto data_reply = data(macros_or_none(pm.data));
    if (!data_reply) {
        return std::unexpected(data_reply.error());
    }
    if (data_reply->is_final()) {
        return finish(Stage::Data, *data_reply);
    }
    const Macros eod = macros_or_none(pm.end_of_data);
    for (const auto& [name, value] : msg.headers) {
        auto reply = header(name, value, eod);
        if (!reply) {
            return std::unexpected(reply.error());
        }
        if (reply->is_final()) {
            return finish(Stage::Header, *reply);
        }
    }
    auto eoh_reply = end_of_headers(eod);
    if (!eoh_reply) {
        return std::unexpected(eoh_reply.error());
    }
    if (eoh_reply->is_final()) {
        return finish(Stage::EndOfHeaders, *eoh_reply);
    }
    if (!msg.body.empty()) {
        auto body_reply = body(msg.body, eod, msg.body_chunk);
        if (!body_reply) {
            return std::unexpected(body_reply.error());
        }
        if (body_reply->is_final()) {
            return finish(Stage::Body, *body_reply);
        }
    }
    auto eom = end_of_message(eod);
    if (!eom) {
        return std::unexpected(eom.error());
    }
    for (const auto& mod : eom->modifications) {
        using K = Modification::Kind;
        switch (mod.kind) {
            case K::AddHeader:
            case K::InsertHeader:
            case K::ChangeHeader:
                result.header_edits.push_back(HeaderEdit{
                    .kind = mod.kind, .index = mod.index, .name = mod.name, .value = mod.value});
                break;
            case K::ReplaceBody:
                result.replaced_body = result.replaced_body.value_or("") + mod.value;
                break;
            case K::AddRcpt:
            case K::AddRcptPar:
                result.added_rcpts.push_back(mod.name);
                break;
            case K::DelRcpt:
                result.deleted_rcpts.push_back(mod.name);
                break;
            case K::ChangeFrom:
                result.new_sender = mod.name;
                break;
            case K::Quarantine:
                result.quarantine_reason = mod.name;
                break;
        }
    }
    return finish(Stage::EndOfMessage, *eom);
}

}  // namespace mailwarden::testing
