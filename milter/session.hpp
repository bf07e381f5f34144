// session.hpp - one milter connection: the macros the MTA sent, the transaction state
// (reset per message), and the pipeline run of the current message.
//
// States: Connected → (MAIL) InMessage → (EOM | ABORT) Connected → ... → Closed. The
// session never calls libmilter itself: it reads macros and applies verdicts through an
// MtaContext, and returns an Outcome that callbacks.cpp maps to SMFIS_*. Used by one
// libmilter thread at a time.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "milter/mta_context.hpp"
#include "milter/runtime.hpp"
#include "policy/pipeline.hpp"
#include "store/event.hpp"
#include "util/clock.hpp"

namespace mailwarden::milter {

/// What a callback answers the MTA.
enum class Outcome { Continue, Accept, Reject, Tempfail, Discard };

/// What sessions need from the daemon. All members must outlive the sessions.
struct SessionServices {
    std::function<std::shared_ptr<const Runtime>()> runtime;  ///< current snapshot
    std::function<void(std::vector<store::Event>)> record;    ///< never blocks
    const util::Clock* clock = nullptr;
    std::atomic<int>* messages_in_flight = nullptr;  ///< for graceful stop
    /// Set while stopping: new messages are tempfailed, those in flight finish.
    const std::atomic<bool>* draining = nullptr;
};

class Session {
  public:
    explicit Session(const SessionServices& services);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// The stages the current config's checks need (the rest is negotiated away).
    policy::StageMask wanted_stages() const;

    void on_connect(MtaContext& mta, std::string client_name,
                    std::optional<util::IpAddress> client_ip, int client_port);
    void on_helo(MtaContext& mta, std::string helo);
    Outcome on_mail(MtaContext& mta, std::span<const std::string> args);
    Outcome on_rcpt(MtaContext& mta, std::span<const std::string> args);
    void on_header(MtaContext& mta, std::string name, std::string value);
    void on_end_of_headers(MtaContext& mta);
    void on_body(MtaContext& mta, std::span<const std::byte> chunk);
    Outcome on_end_of_message(MtaContext& mta);
    /// The MTA aborted the message (RSET, client gone, another milter refused).
    void on_abort();

    const policy::Transaction& transaction() const noexcept { return tx_; }
    /// "QUEUEID" or "NOQUEUE", for log lines.
    std::string queue_id() const { return tx_.queue_id_or_noqueue(); }

  private:
    void begin_message();
    void end_message();
    void refresh_queue_id(MtaContext& mta);
    /// Logs and records the verdict of a stage.
    void report(policy::Stage stage, const policy::Verdict& verdict);
    /// Logs and records the outgoing failures a delivery report carried.
    void record_outgoing_failures();
    /// Applies a stage verdict before end of message (refusals only).
    Outcome answer_early(MtaContext& mta, policy::Stage stage, policy::Verdict verdict);
    /// True for mail the MTA did not receive over SMTP (sendmail(1), pickup, DSNs):
    /// Postfix sends its envelope without angle brackets.
    bool non_smtp() const;

    const SessionServices& services_;
    std::shared_ptr<const Runtime> runtime_;  ///< pinned per message
    policy::Transaction tx_;
    std::unique_ptr<policy::PipelineRun> run_;
    std::optional<policy::Verdict> deferred_refusal_;  ///< non-SMTP refusals wait for EOM
    bool in_message_ = false;
};

}  // namespace mailwarden::milter
