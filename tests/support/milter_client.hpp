// milter_client.hpp - the MTA side of the milter protocol (version 6), as Postfix speaks it.
//
// Tests and bench/miltload drive a milter with it: option negotiation, a macro packet
// before every stage, the stages themselves, and the replies and modification requests
// the milter sends back. Every read has a deadline; a malformed reply is an Error, never
// a crash. send_raw() writes arbitrary bytes for bad-input tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::testing {

namespace milter {

/// SMFIF_* action flags the MTA allows; Postfix offers all nine.
inline constexpr std::uint32_t kActAddHeaders = 0x001;
inline constexpr std::uint32_t kActChangeBody = 0x002;
inline constexpr std::uint32_t kActAddRcpt = 0x004;
inline constexpr std::uint32_t kActDelRcpt = 0x008;
inline constexpr std::uint32_t kActChangeHeaders = 0x010;
inline constexpr std::uint32_t kActQuarantine = 0x020;
inline constexpr std::uint32_t kActChangeFrom = 0x040;
inline constexpr std::uint32_t kActAddRcptPar = 0x080;
inline constexpr std::uint32_t kActSetSymList = 0x100;
inline constexpr std::uint32_t kActAll = 0x1ff;

/// SMFIP_* protocol flags; Postfix offers 0x1fffff.
inline constexpr std::uint32_t kNoConnect = 0x000001;
inline constexpr std::uint32_t kNoHelo = 0x000002;
inline constexpr std::uint32_t kNoMail = 0x000004;
inline constexpr std::uint32_t kNoRcpt = 0x000008;
inline constexpr std::uint32_t kNoBody = 0x000010;
inline constexpr std::uint32_t kNoHeaders = 0x000020;
inline constexpr std::uint32_t kNoEoh = 0x000040;
inline constexpr std::uint32_t kNrHeader = 0x000080;
inline constexpr std::uint32_t kNoUnknown = 0x000100;
inline constexpr std::uint32_t kNoData = 0x000200;
inline constexpr std::uint32_t kSkip = 0x000400;
inline constexpr std::uint32_t kRcptRej = 0x000800;
inline constexpr std::uint32_t kNrConnect = 0x001000;
inline constexpr std::uint32_t kNrHelo = 0x002000;
inline constexpr std::uint32_t kNrMail = 0x004000;
inline constexpr std::uint32_t kNrRcpt = 0x008000;
inline constexpr std::uint32_t kNrData = 0x010000;
inline constexpr std::uint32_t kNrUnknown = 0x020000;
inline constexpr std::uint32_t kNrEoh = 0x040000;
inline constexpr std::uint32_t kNrBody = 0x080000;
inline constexpr std::uint32_t kHeaderLeadingSpace = 0x100000;
inline constexpr std::uint32_t kProtoAll = 0x1fffff;

/// Largest body chunk the MTA sends (libmilter's MILTER_CHUNK_SIZE).
inline constexpr std::size_t kMaxBodyChunk = 65535;

}  // namespace milter

/// A protocol stage; the char is the SMFIC_* command byte that starts it.
enum class Stage : char {
    Connect = 'C',
    Helo = 'H',
    Mail = 'M',
    Rcpt = 'R',
    Data = 'T',
    Header = 'L',
    EndOfHeaders = 'N',
    Body = 'B',
    EndOfMessage = 'E',
    Unknown = 'U',
};

/// "connect", "helo", "mail", ... for messages and test names.
std::string_view to_string(Stage stage);

/// What the milter answered to one stage.
enum class ReplyKind : char {
    None = 0,  ///< no reply was expected (NR_* flag or skipped stage)
    Continue = 'c',
    Accept = 'a',
    Reject = 'r',
    Tempfail = 't',
    Discard = 'd',
    ReplyCode = 'y',  ///< reject or tempfail with the text in StageReply::text
    Skip = 's',       ///< skip the rest of the body (SMFIP_SKIP)
    ConnFail = 'f',
    Shutdown = '4',
};

std::string_view to_string(ReplyKind kind);

/// One modification request sent before the final end-of-message reply.
struct Modification {
    enum class Kind : char {
        AddHeader = 'h',
        InsertHeader = 'i',
        ChangeHeader = 'm',
        ReplaceBody = 'b',
        AddRcpt = '+',
        AddRcptPar = '2',
        DelRcpt = '-',
        ChangeFrom = 'e',
        Quarantine = 'q',
    };
    Kind kind = Kind::AddHeader;
    std::uint32_t index = 0;  ///< header index (insert/change)
    std::string name;         ///< header name, recipient, sender, quarantine reason
    std::string value;        ///< header value, body chunk, ESMTP args
};

/// The reply to one stage: its kind, the text of a 'y' reply, and at end of message the
/// modifications and progress packets that preceded it.
struct StageReply {
    Stage stage = Stage::Connect;
    ReplyKind kind = ReplyKind::None;
    std::string text;  ///< full SMTP reply of a 'y' ("550-5.7.1 a\r\n550 5.7.1 b")
    std::vector<Modification> modifications;
    int progress = 0;

    /// The 3-digit code of a 'y' reply, or 0.
    int code() const;
    /// True for a reply that ends the message (accept, reject, tempfail, discard, 'y').
    bool is_final() const;
};

/// Name/value macro pairs sent in one SMFIC_MACRO packet, in order.
using Macros = std::vector<std::pair<std::string, std::string>>;

/// What the milter answered at option negotiation.
struct Negotiated {
    std::uint32_t version = 0;
    std::uint32_t actions = 0;
    std::uint32_t protocol = 0;  ///< the milter's answer, unmasked
    /// SMFIR_SETSYMLIST requests: stage number (SMFIM_*) -> macro list.
    std::vector<std::pair<std::uint32_t, std::string>> symlists;
};

/// One raw packet (command byte + payload).
struct Packet {
    char command = 0;
    std::string data;
};

/// Client-side connection details sent in the connect stage.
struct ConnectInfo {
    std::string hostname = "localhost";
    char family = '4';  ///< '4', '6', 'L' (unix), 'U' (unknown)
    std::uint16_t port = 40000;
    std::string address = "127.0.0.1";
};

/// The macro sets Postfix 3.7 sends at each stage over SMTP (see the e2e README table).
struct PostfixMacros {
    Macros connect;      ///< j {daemon_name} {daemon_addr} v _
    Macros helo;         ///< TLS macros: none without TLS
    Macros mail;         ///< {mail_addr} {mail_host} {mail_mailer} (+ auth)
    Macros rcpt;         ///< filled per recipient when empty: {rcpt_addr} ...
    Macros data;         ///< i
    Macros end_of_data;  ///< i: headers, end of headers, body chunks, end of message

    /// Postfix's defaults for a client at `client` and queue id `queue_id`.
    static PostfixMacros defaults(const ConnectInfo& client, std::string queue_id = "4ABCDEF");
};

/// One message: envelope, headers, body (CRLF line ends), and its macros.
struct MessageSpec {
    std::vector<std::string> mail_args = {"<sender@remote.test>"};
    std::vector<std::vector<std::string>> rcpts = {{"<rcpt@local.test>"}};
    std::vector<std::pair<std::string, std::string>> headers = {
        {"From", "sender@remote.test"}, {"To", "rcpt@local.test"}, {"Subject", "test"}};
    std::string body = "Hello.\r\n";
    std::string queue_id = "4ABCDEF";
    /// {auth_authen} / {auth_type} for the mail stage when non-empty.
    std::string auth_login;
    Macros extra_mail_macros;
    /// When false, no macro packets at all (an MTA that sends none).
    bool send_macros = true;
    /// Largest SMFIC_BODY chunk (Postfix and Sendmail: 64 KiB - 1).
    std::size_t body_chunk = milter::kMaxBodyChunk;
};

/// A header edit requested at end of message.
struct HeaderEdit {
    Modification::Kind kind = Modification::Kind::AddHeader;
    std::uint32_t index = 0;
    std::string name;
    std::string value;
};

/// The outcome of one message, as the MTA would apply it.
struct MessageResult {
    /// The reply that decided the message (or the end-of-message reply).
    StageReply decisive;
    /// Where the message was decided (Mail when rejected at MAIL, EndOfMessage normally).
    Stage decided_at = Stage::EndOfMessage;
    /// Per-recipient replies, in order (kind None when the stage is not sent).
    std::vector<StageReply> rcpt_replies;
    std::vector<HeaderEdit> header_edits;
    std::optional<std::string> replaced_body;
    std::vector<std::string> added_rcpts;
    std::vector<std::string> deleted_rcpts;
    std::optional<std::string> new_sender;
    std::optional<std::string> quarantine_reason;

    /// "accept", "reject", "tempfail", "discard", "quarantine" (accepted but held) or
    /// "continue" (the milter never took a final decision).
    std::string final_action() const;
    /// The value of the first added or inserted header named `name` (case-insensitive).
    std::optional<std::string> added_header(std::string_view name) const;
};

/// The MTA end of one milter connection. Move-only; closes the socket on destruction.
class MilterClient {
  public:
    using Duration = std::chrono::milliseconds;

    /// Connects to `socket`: `inet:PORT@HOST`, `inet:HOST:PORT` (Postfix), `inet6:PORT@HOST`,
    /// `inet6:[HOST]:PORT`, `unix:/path` or `local:/path`.
    /// On TCP the client sets TCP_NODELAY unless `nagle` is true: several stages need no
    /// reply (SMFIP_NR_*, ABORT, macros), and with Nagle's algorithm each small write after
    /// one of them waits for the milter's delayed ACK (~40 ms), which would measure the
    /// client instead of the milter.
    static util::Result<MilterClient> connect(std::string_view socket,
                                              Duration timeout = std::chrono::seconds(10),
                                              bool nagle = false);

    MilterClient(MilterClient&& other) noexcept;
    MilterClient& operator=(MilterClient&& other) noexcept;
    MilterClient(const MilterClient&) = delete;
    MilterClient& operator=(const MilterClient&) = delete;
    ~MilterClient();

    /// Deadline for each read (default 10 s).
    void set_timeout(Duration timeout) { timeout_ = timeout; }
    /// Buffers packets that wait for no reply (macros, skipped and SMFIP_NR_* stages, ABORT)
    /// and sends them with the next packet that waits for one, or once `bytes` are pending,
    /// as Postfix's VSTREAM does with its 4096-byte buffer (benchmarks use this to load a
    /// milter as Postfix does). 0, the default, writes every packet at once.
    void set_write_buffer(std::size_t bytes) { write_buffer_bytes_ = bytes; }

    /// SMFIC_OPTNEG; offers Postfix's defaults unless told otherwise.
    util::Result<Negotiated> negotiate(std::uint32_t version = 6,
                                       std::uint32_t actions = milter::kActAll,
                                       std::uint32_t protocol = milter::kProtoAll);
    /// The negotiated result (valid after negotiate()).
    const Negotiated& negotiated() const { return negotiated_; }
    /// Whether the milter asked not to receive `stage` (SMFIP_NO*).
    bool skips(Stage stage) const;
    /// Whether the milter asked not to reply to `stage` (SMFIP_NR_*).
    bool no_reply(Stage stage) const;

    util::Result<StageReply> connect_stage(const ConnectInfo& info, const Macros& macros = {});
    util::Result<StageReply> helo(std::string_view name, const Macros& macros = {});
    util::Result<StageReply> mail(const std::vector<std::string>& args, const Macros& macros = {});
    util::Result<StageReply> rcpt(const std::vector<std::string>& args, const Macros& macros = {});
    util::Result<StageReply> data(const Macros& macros = {});
    util::Result<StageReply> header(std::string_view name, std::string_view value,
                                    const Macros& macros = {});
    util::Result<StageReply> end_of_headers(const Macros& macros = {});
    /// One SMFIC_BODY packet; `chunk` must not exceed milter::kMaxBodyChunk.
    util::Result<StageReply> body_chunk(std::string_view chunk, const Macros& macros = {});
    /// The whole body in chunks of at most `chunk_size`; stops at a non-continue reply.
    util::Result<StageReply> body(std::string_view body, const Macros& macros = {},
                                  std::size_t chunk_size = milter::kMaxBodyChunk);
    /// SMFIC_BODYEOB; collects modifications and progress until the final reply.
    util::Result<StageReply> end_of_message(const Macros& macros = {});
    util::Result<StageReply> unknown(std::string_view command, const Macros& macros = {});
    /// SMFIC_ABORT (no reply).
    util::Result<void> abort();
    /// SMFIC_QUIT (no reply); the milter closes the connection.
    util::Result<void> quit();

    /// One message from MAIL to end of message (then ABORT as Postfix does after it), honouring
    /// rejects as Postfix would: a MAIL reject ends the message, a rejected recipient is
    /// dropped, no accepted recipient ends the message.
    util::Result<MessageResult> send_message(const MessageSpec& message,
                                             const PostfixMacros& macros);

    /// Writes `bytes` unframed (bad-input tests build their own packets).
    util::Result<void> send_raw(std::string_view bytes);
    /// Writes one framed packet.
    util::Result<void> send_packet(char command, std::string_view data);
    /// Reads one framed packet (deadline: the read timeout).
    util::Result<Packet> read_packet();
    /// True when the peer has closed the connection (waits up to `wait`).
    bool peer_closed(Duration wait);
    /// Closes the socket now (a disconnect mid-message).
    void close();

  private:
    std::string header_value_as_written(std::string value) const;
    explicit MilterClient(int fd) : fd_(fd) {}
    util::Result<StageReply> stage(Stage stage, std::string_view data, const Macros& macros);
    util::Result<StageReply> read_reply(Stage stage);

    int fd_ = -1;
    std::size_t write_buffer_bytes_ = 0;
    std::string pending_;  ///< buffered writes (set_write_buffer)
    util::Result<void> write_all(std::string_view bytes);
    util::Result<void> flush();
    Duration timeout_ = std::chrono::seconds(10);
    Negotiated negotiated_;
    bool negotiated_done_ = false;
};

/// Builds a SMFIC_* payload from NUL-terminated strings ("a\0b\0").
std::string nul_join(const std::vector<std::string>& parts);

}  // namespace mailwarden::testing
