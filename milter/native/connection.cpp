#include "milter/native/connection.hpp"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "milter/negotiation.hpp"

namespace mailwarden::milter::native {

namespace {

using State = Connection::State;

constexpr std::uint32_t bit(State s) {
    return 1u << static_cast<int>(s);
}

// The states each state may be followed by (libmilter's next_states).
constexpr std::uint32_t next_states(State s) {
    switch (s) {
        case State::Init:
            return bit(State::Options);
        case State::Options:
            return bit(State::Connect) | bit(State::Unknown);
        case State::Connect:
        case State::Helo:
            return bit(State::Helo) | bit(State::Mail) | bit(State::Unknown);
        case State::Mail:
            return bit(State::Rcpt) | bit(State::Abort) | bit(State::Unknown);
        case State::Rcpt:
            return bit(State::Headers) | bit(State::EndOfHeaders) | bit(State::Data) |
                   bit(State::Body) | bit(State::EndOfMessage) | bit(State::Rcpt) |
                   bit(State::Abort) | bit(State::Unknown);
        case State::Data:
        case State::Headers:
            return bit(State::EndOfHeaders) | bit(State::Headers) | bit(State::Abort);
        case State::EndOfHeaders:
            return bit(State::Body) | bit(State::EndOfMessage) | bit(State::Abort);
        case State::Body:
            return bit(State::EndOfMessage) | bit(State::Body) | bit(State::Abort);
        case State::EndOfMessage:
            return bit(State::Quit) | bit(State::Mail) | bit(State::Unknown) |
                   bit(State::QuitNewConnection);
        case State::Quit:
        case State::Abort:
            return 0;
        case State::Unknown:
            return bit(State::Helo) | bit(State::Mail) | bit(State::Rcpt) | bit(State::Abort) |
                   bit(State::Data) | bit(State::Body) | bit(State::Unknown) | bit(State::Quit) |
                   bit(State::QuitNewConnection);
        case State::QuitNewConnection:
            return bit(State::Connect) | bit(State::Unknown);
    }
    return 0;
}

bool in_mail(State s) {
    return s >= State::Mail && s < State::EndOfMessage;
}

// The SMFIP_NR_* flag of the reply to a state, or 0.
unsigned long no_reply_flag(State s) {
    switch (s) {
        case State::Connect:
            return SMFIP_NR_CONN;
        case State::Helo:
            return SMFIP_NR_HELO;
        case State::Mail:
            return SMFIP_NR_MAIL;
        case State::Rcpt:
            return SMFIP_NR_RCPT;
        case State::Data:
            return SMFIP_NR_DATA;
        case State::Unknown:
            return SMFIP_NR_UNKN;
        case State::Headers:
            return SMFIP_NR_HDR;
        case State::EndOfHeaders:
            return SMFIP_NR_EOH;
        case State::Body:
            return SMFIP_NR_BODY;
        default:
            return 0;
    }
}

// The no-reply flags libmilter offers to the milter whatever the MTA offers: when the MTA
// lacks one, libmilter answers CONTINUE in the milter's place.
constexpr unsigned long kFakeableNoReply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                                           SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN |
                                           SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

// What each command is: the state it leads to, whether it needs a payload, whether a
// refusal keeps the state (RCPT, unknown), whether it ends the connection.
struct Command {
    std::optional<State> next;
    bool needs_payload;
    bool keeps_state_on_refusal;
    bool ends_connection;
};

std::optional<Command> command_of(char c) {
    switch (c) {
        case SMFIC_ABORT:
            return Command{State::Abort, false, false, false};
        case SMFIC_MACRO:
            return Command{std::nullopt, true, false, false};
        case SMFIC_BODY:
            return Command{State::Body, true, false, false};
        case SMFIC_CONNECT:
            return Command{State::Connect, true, false, false};
        case SMFIC_BODYEOB:
            return Command{State::EndOfMessage, false, false, false};
        case SMFIC_HELO:
            return Command{State::Helo, true, false, false};
        case SMFIC_HEADER:
            return Command{State::Headers, true, false, false};
        case SMFIC_MAIL:
            return Command{State::Mail, true, false, false};
        case SMFIC_OPTNEG:
            return Command{State::Options, true, false, false};
        case SMFIC_EOH:
            return Command{State::EndOfHeaders, false, false, false};
        case SMFIC_QUIT:
            return Command{State::Quit, false, false, true};
        case SMFIC_DATA:
            return Command{State::Data, false, false, false};
        case SMFIC_RCPT:
            return Command{State::Rcpt, true, true, false};
        case SMFIC_UNKNOWN:
            return Command{State::Unknown, true, true, false};
        case SMFIC_QUIT_NC:
            return Command{State::QuitNewConnection, false, false, false};
        default:
            return std::nullopt;
    }
}

void set_socket_timeouts(int fd, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Connection::Connection(int fd, const SessionServices& services, std::chrono::milliseconds timeout)
    : fd_(fd), services_(services), timeout_(timeout), mta_(out_) {
    set_socket_timeouts(fd_, timeout_);
}

Connection::~Connection() {
    session_.reset();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

Session& Connection::session() {
    if (!session_) {
        session_ = std::make_unique<Session>(services_);
    }
    return *session_;
}

void Connection::abort_message() {
    if (session_) {
        try {
            session_->on_abort();
        } catch (const std::exception& e) {
            spdlog::error("{}: internal error in abort: {}", session_->queue_id(), e.what());
        }
    }
}

void Connection::run() {
    while (true) {
        PacketView packet;
        PacketReader::Status status;
        while ((status = reader_.next(packet)) == PacketReader::Status::Packet) {
            if (handle(packet) == Next::Close) {
                (void)flush();
                return;
            }
        }
        if (status == PacketReader::Status::Malformed) {
            spdlog::warn("milter connection: a packet length of 0 or above {} octets; closing",
                         kMaxPayload + 1);
            if (in_mail(state_)) {
                abort_message();
            }
            return;
        }
        if (!flush()) {
            if (in_mail(state_)) {
                abort_message();
            }
            return;
        }
        const auto area = reader_.write_area();
        ssize_t n = 0;
        do {
            n = ::read(fd_, area.data(), area.size());
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                spdlog::warn("milter connection: no command from the MTA within {} ms; closing",
                             timeout_.count());
            } else if (n < 0 && errno != ECONNRESET) {
                spdlog::warn("milter connection: read failed: {}", std::strerror(errno));
            } else if (reader_.buffered() > 0) {
                spdlog::warn("milter connection: closed by the MTA in the middle of a packet");
            }
            if (in_mail(state_)) {
                abort_message();
            }
            return;
        }
        reader_.commit(static_cast<std::size_t>(n));
    }
}

bool Connection::flush() {
    std::size_t done = 0;
    while (done < out_.size()) {
        const ssize_t n = ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            spdlog::warn("milter connection: write to the MTA failed: {}",
                         n < 0 ? std::strerror(errno) : "nothing written");
            out_.clear();
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    out_.clear();
    return true;
}

bool Connection::transition_ok(State from, State to) const {
    // Allowed directly, or through states that were negotiated away (libmilter's trans_ok).
    for (int s = static_cast<int>(from); s <= static_cast<int>(State::QuitNewConnection); ++s) {
        if ((next_states(static_cast<State>(s)) & bit(to)) != 0) {
            return true;
        }
        const int n = s + 1;
        if (n > static_cast<int>(State::QuitNewConnection) ||
            (skippable_ & bit(static_cast<State>(n))) == 0) {
            return false;
        }
    }
    return false;
}

Connection::Next Connection::handle(const PacketView& packet) {
    const auto command = command_of(packet.command);
    if (!command) {
        spdlog::warn("milter connection: unknown command 0x{:02x}; closing",
                     static_cast<unsigned char>(packet.command));
        if (in_mail(state_)) {
            abort_message();
        }
        return Next::Close;
    }
    bool call_abort = in_mail(state_);
    const bool quit = packet.command == SMFIC_QUIT || packet.command == SMFIC_QUIT_NC;
    if (quit) {
        // QUIT ends the connection from any state (libmilter closes too), the message first.
        if (call_abort) {
            abort_message();
        }
    } else if (command->next && !transition_ok(state_, *command->next)) {
        // Out of order: end the message, then try again from HELO or ignore the command.
        if (call_abort) {
            abort_message();
        }
        state_ = State::Helo;
        call_abort = false;
        if (!transition_ok(state_, *command->next)) {
            return Next::Read;
        }
    }
    if (command->needs_payload && packet.payload.empty()) {
        spdlog::warn("milter connection: command '{}' without its arguments; closing",
                     packet.command);
        if (call_abort) {
            abort_message();
        }
        return Next::Close;
    }
    if (command->next) {
        state_ = *command->next;
    }
    const Answer answer = dispatch(packet.command, packet.payload);
    if (answer == Answer::Close) {
        if (in_mail(state_)) {
            abort_message();
        }
        return Next::Close;
    }
    send_answer(answer);
    if (answer == Answer::Accept) {
        state_ = State::Helo;
    } else if ((answer == Answer::Reject || answer == Answer::Tempfail ||
                answer == Answer::Discard) &&
               !command->keeps_state_on_refusal) {
        state_ = State::Helo;
    }
    return command->ends_connection ? Next::Close : Next::Read;
}

void Connection::send_answer(Answer answer) {
    const unsigned long nr = no_reply_flag(state_);
    if (nr != 0 && (protocol_ & nr) != 0) {
        // Negotiated "no reply": the MTA does not wait, whatever the stage decided.
        if ((protocol_to_mta_ & nr) == 0 && answer != Answer::Ignore) {
            append_packet(out_, SMFIR_CONTINUE);  // faked for an MTA without the flag
        }
        return;
    }
    switch (answer) {
        case Answer::Continue:
            append_packet(out_, SMFIR_CONTINUE);
            break;
        case Answer::Reject:
        case Answer::Tempfail: {
            const bool reject = answer == Answer::Reject;
            if (auto text = mta_.take_reply(reject ? '5' : '4')) {
                *text += '\0';
                append_packet(out_, SMFIR_REPLYCODE, *text);
            } else {
                append_packet(out_, reject ? SMFIR_REJECT : SMFIR_TEMPFAIL);
            }
            break;
        }
        case Answer::Discard:
            append_packet(out_, SMFIR_DISCARD);
            break;
        case Answer::Accept:
            append_packet(out_, SMFIR_ACCEPT);
            break;
        case Answer::Options: {
            std::vector<std::pair<std::uint32_t, std::string_view>> symlists;
            if ((actions_ & SMFIF_SETSYMLIST) != 0) {
                for (const auto& list : stage_macro_lists()) {
                    symlists.emplace_back(static_cast<std::uint32_t>(list.stage), list.macros);
                }
            }
            append_packet(out_, SMFIC_OPTNEG,
                          encode_optneg(version_, actions_, protocol_to_mta_, symlists));
            break;
        }
        case Answer::NoReply:
        case Answer::Ignore:
        case Answer::Close:
            break;
    }
}

template <class F>
Connection::Answer Connection::guarded(const char* where, F&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        spdlog::error("{}: internal error in {}: {}", session_ ? session_->queue_id() : "NOQUEUE",
                      where, e.what());
    } catch (...) {
        spdlog::error("{}: internal error in {}: unknown exception",
                      session_ ? session_->queue_id() : "NOQUEUE", where);
    }
    return from_outcome(internal_error_outcome(services_));
}

Connection::Answer Connection::from_outcome(Outcome outcome) const {
    switch (outcome) {
        case Outcome::Continue:
            return Answer::Continue;
        case Outcome::Accept:
            return Answer::Accept;
        case Outcome::Reject:
            return Answer::Reject;
        case Outcome::Tempfail:
            return Answer::Tempfail;
        case Outcome::Discard:
            return Answer::Discard;
    }
    return Answer::Continue;
}

Connection::Answer Connection::no_reply_or_continue(unsigned long nr_flag) const {
    return (protocol_ & nr_flag) != 0 ? Answer::NoReply : Answer::Continue;
}

Connection::Answer Connection::dispatch(char command, std::string_view payload) {
    switch (command) {
        case SMFIC_OPTNEG:
            return negotiate(payload);
        case SMFIC_MACRO:
            return macros(payload);
        case SMFIC_CONNECT:
            return connect(payload);
        case SMFIC_HELO:
            return helo(payload);
        case SMFIC_MAIL:
        case SMFIC_RCPT:
            return mail_or_rcpt(command, payload);
        case SMFIC_HEADER:
            return header(payload);
        case SMFIC_EOH:
            return guarded("eoh", [&] {
                session().on_end_of_headers(mta_);
                return no_reply_or_continue(SMFIP_NR_EOH);
            });
        case SMFIC_BODY:
            return guarded("body", [&] {
                session().on_body(mta_, std::as_bytes(std::span(payload.data(), payload.size())));
                return no_reply_or_continue(SMFIP_NR_BODY);
            });
        case SMFIC_BODYEOB:
            return end_of_message(payload);
        case SMFIC_ABORT:
            abort_message();
            return Answer::NoReply;
        case SMFIC_QUIT:
        case SMFIC_QUIT_NC:
            // The session ends; with QUIT_NC the next connection's stages follow on this
            // socket, with what was negotiated.
            session_.reset();
            mta_.macros().clear_from(0);
            return Answer::NoReply;
        case SMFIC_DATA:
        case SMFIC_UNKNOWN:
            return Answer::Continue;  // no check uses them (negotiated away when possible)
        default:
            return Answer::Close;
    }
}

Connection::Answer Connection::negotiate(std::string_view payload) {
    mta_.macros().clear_from(0);
    const auto offer = decode_optneg(payload);
    if (!offer) {
        spdlog::warn("milter connection: option negotiation too short ({} octets); closing",
                     payload.size());
        return Answer::Close;
    }
    if (offer->version < 2) {
        spdlog::warn("milter connection: protocol version {} is too old; closing", offer->version);
        return Answer::Close;
    }
    version_ = std::min<std::uint32_t>(offer->version, SMFI_PROT_VERSION);
    const std::uint32_t mta_actions = offer->actions != 0 ? offer->actions : SMFI_V1_ACTS;
    mta_protocol_ = offer->protocol != 0 ? offer->protocol : SMFI_V1_PROT;
    return guarded("negotiate", [&] {
        session_.reset();  // a fresh session with the current configuration
        const auto flags = negotiate_flags(session().wanted_stages(), mta_actions,
                                           mta_protocol_ | kFakeableNoReply);
        actions_ = static_cast<std::uint32_t>(flags.actions);
        protocol_ = static_cast<std::uint32_t>(flags.protocol);
        protocol_to_mta_ = protocol_ & ~(kFakeableNoReply & ~mta_protocol_);
        // Older MTAs cannot switch off DATA or unknown commands: they are then sent.
        protocol_to_mta_ &= ~((SMFIP_NODATA | SMFIP_NOUNKNOWN) & ~mta_protocol_);
        if ((protocol_to_mta_ & ~mta_protocol_) != 0) {
            spdlog::warn("milter connection: the MTA's protocol 0x{:x} lacks 0x{:x}; closing",
                         mta_protocol_, protocol_to_mta_ & ~mta_protocol_);
            return Answer::Close;
        }
        mta_.set_negotiated(actions_, protocol_);
        skippable_ = 0;
        const std::pair<unsigned long, State> skips[] = {
            {SMFIP_NOCONNECT, State::Connect}, {SMFIP_NOHELO, State::Helo},
            {SMFIP_NOMAIL, State::Mail},       {SMFIP_NORCPT, State::Rcpt},
            {SMFIP_NOHDRS, State::Headers},    {SMFIP_NOEOH, State::EndOfHeaders},
            {SMFIP_NOBODY, State::Body},       {SMFIP_NODATA, State::Data},
            {SMFIP_NOUNKNOWN, State::Unknown},
        };
        for (const auto& [flag, state] : skips) {
            if ((protocol_ & flag) != 0) {
                skippable_ |= bit(state);
            }
        }
        return Answer::Options;
    });
}

Connection::Answer Connection::macros(std::string_view payload) {
    const auto packet = decode_macros(payload);
    if (!packet) {
        return Answer::Ignore;
    }
    const auto slot = MacroTable::slot_of(packet->stage);
    if (!slot) {
        return Answer::Ignore;
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(packet->pairs.size());
    for (const auto& [name, value] : packet->pairs) {
        pairs.emplace_back(name, value);
    }
    mta_.macros().set(*slot, std::move(pairs));
    return Answer::Ignore;
}

Connection::Answer Connection::connect(std::string_view payload) {
    mta_.macros().clear_from(1);
    const auto info = decode_connect(payload);
    if (!info) {
        spdlog::warn("milter connection: malformed connect information; closing");
        return Answer::Close;
    }
    std::optional<util::IpAddress> ip;
    int port = 0;
    const std::string address(info->address);
    if (info->family == '4') {
        in_addr in{};
        if (inet_aton(address.c_str(), &in) != 1) {
            spdlog::warn("milter connection: bad client address '{}'; closing", address);
            return Answer::Close;
        }
        ip = util::IpAddress::from_bytes(util::IpAddress::Family::V4,
                                         reinterpret_cast<const std::uint8_t*>(&in));
        port = info->port;
    } else if (info->family == '6') {
        in6_addr in6{};
        if (inet_pton(AF_INET6, address.c_str(), &in6) != 1) {
            spdlog::warn("milter connection: bad client address '{}'; closing", address);
            return Answer::Close;
        }
        ip = util::IpAddress::from_bytes(util::IpAddress::Family::V6,
                                         reinterpret_cast<const std::uint8_t*>(&in6));
        port = info->port;
    }
    return guarded("connect", [&] {
        session().on_connect(
            mta_, info->hostname.empty() ? std::string("unknown") : std::string(info->hostname), ip,
            port);
        return no_reply_or_continue(SMFIP_NR_CONN);
    });
}

Connection::Answer Connection::helo(std::string_view payload) {
    mta_.macros().clear_from(2);
    const auto name = decode_helo(payload);
    if (!name) {
        return Answer::Ignore;  // libmilter drops an unterminated HELO without an answer
    }
    return guarded("helo", [&] {
        session().on_helo(mta_, std::string(*name));
        return no_reply_or_continue(SMFIP_NR_HELO);
    });
}

Connection::Answer Connection::mail_or_rcpt(char command, std::string_view payload) {
    const bool mail = command == SMFIC_MAIL;
    mta_.macros().clear_from(mail ? 3 : 4);
    const auto parts = split_strings(payload);
    if (!parts) {
        spdlog::warn("milter connection: {} arguments without a terminating NUL; closing",
                     mail ? "MAIL" : "RCPT");
        return Answer::Close;
    }
    const std::vector<std::string> args(parts->begin(), parts->end());
    return guarded(mail ? "mail" : "rcpt", [&] {
        return from_outcome(mail ? session().on_mail(mta_, args) : session().on_rcpt(mta_, args));
    });
}

Connection::Answer Connection::header(std::string_view payload) {
    const auto field = decode_header(payload);
    if (!field) {
        spdlog::warn("milter connection: malformed header packet; closing");
        return Answer::Close;
    }
    return guarded("header", [&] {
        session().on_header(mta_, std::string(field->first),
                            header_value_from_mta(std::string(field->second), protocol_));
        return no_reply_or_continue(SMFIP_NR_HDR);
    });
}

Connection::Answer Connection::end_of_message(std::string_view payload) {
    return guarded("eom", [&] {
        if (!payload.empty()) {
            // A last body chunk inside the end-of-body packet (Postfix sends none).
            session().on_body(mta_, std::as_bytes(std::span(payload.data(), payload.size())));
        }
        mta_.set_end_of_message(true);
        struct Reset {
            NativeMtaContext& mta;
            ~Reset() { mta.set_end_of_message(false); }
        } reset{mta_};
        return from_outcome(session().on_end_of_message(mta_));
    });
}

}  // namespace mailwarden::milter::native
