// connection.hpp - one MTA connection of the native engine: reads with one read() of up to
// 64 KiB at a time, handles every complete packet in the buffer, and writes the replies
// (and the modifications before a final reply) gathered in one write.
//
// The protocol follows libmilter's engine (mi_engine): the same states and allowed
// transitions (a command out of order aborts the message and is retried from HELO, or
// ignored), the same macro slots, the same "no reply" rules (a negotiated SMFIP_NR_* stage
// never answers; libmilter's faked ones answer CONTINUE when the MTA lacks the flag), and
// it drives the same milter::Session, so both engines decide alike.
//
// Bad input never throws or grows without bound: a length of zero or above kMaxPayload, an
// unknown command, a payload libmilter would refuse, a read timeout or EOF end the
// connection (aborting the message in progress); the peer then applies its default action.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "milter/native/native_context.hpp"
#include "milter/native/packet.hpp"
#include "milter/session.hpp"

namespace mailwarden::milter::native {

class Connection {
  public:
    /// Serves `fd` (owned: closed by the destructor). `timeout` bounds each read and write.
    Connection(int fd, const SessionServices& services, std::chrono::milliseconds timeout);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs until QUIT, EOF, an error, a timeout or shutdown(2) of the socket.
    void run();

    /// The protocol states of libmilter's engine.
    enum class State : int {
        Init,
        Options,
        Connect,
        Helo,
        Mail,
        Rcpt,
        Data,
        Headers,
        EndOfHeaders,
        Body,
        EndOfMessage,
        Quit,
        Abort,
        Unknown,
        QuitNewConnection,
    };

  private:
    /// What handling a command asks of the connection loop.
    enum class Answer {
        Continue,
        Accept,
        Reject,
        Tempfail,
        Discard,
        NoReply,
        Options,  ///< send the option negotiation answer
        Ignore,   ///< no answer, keep going (a malformed macro or HELO packet)
        Close,    ///< end the connection (libmilter's _SMFIS_ABORT)
    };
    enum class Next { Read, Close };

    Next handle(const PacketView& packet);
    Answer dispatch(char command, std::string_view payload);
    void send_answer(Answer answer);
    bool flush();
    bool transition_ok(State from, State to) const;
    Session& session();
    void abort_message();

    Answer negotiate(std::string_view payload);
    Answer connect(std::string_view payload);
    Answer helo(std::string_view payload);
    Answer mail_or_rcpt(char command, std::string_view payload);
    Answer header(std::string_view payload);
    Answer end_of_message(std::string_view payload);
    Answer macros(std::string_view payload);
    /// Runs a Session call; an exception answers with on_internal_error.
    template <class F>
    Answer guarded(const char* where, F&& body);
    Answer from_outcome(Outcome outcome) const;
    Answer no_reply_or_continue(unsigned long nr_flag) const;

    int fd_;
    const SessionServices& services_;
    std::chrono::milliseconds timeout_;
    PacketReader reader_;
    std::string out_;
    NativeMtaContext mta_;
    std::unique_ptr<Session> session_;
    State state_ = State::Init;
    std::uint32_t mta_protocol_ = 0;     ///< what the MTA offered
    std::uint32_t protocol_ = 0;         ///< the milter side's flags (libmilter ctx_pflags)
    std::uint32_t protocol_to_mta_ = 0;  ///< what the MTA was told
    std::uint32_t actions_ = 0;
    std::uint32_t version_ = 0;
    std::uint32_t skippable_ = 0;  ///< bit per State that was negotiated away
};

}  // namespace mailwarden::milter::native
