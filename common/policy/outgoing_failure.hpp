// outgoing_failure.hpp - one recipient of our own mail that a bounce reports as failed or
// delayed, and the interface through which other parts of mailwarden hear about it.
//
// The bounce check fills one OutgoingFailure per failed or delayed recipient of a DSN and
// hands it to the OutgoingFailureSink it was built with (the compromised-account detector
// of issue 5 wants "hard bounce for envelope sender S"), and keeps them in the
// Transaction so the session records them as events. Plain data.
#pragma once

#include <string>
#include <string_view>

namespace mailwarden::policy {

/// A failure of our outgoing mail, as a bounce reported it.
struct OutgoingFailure {
    std::string original_sender;      ///< who sent the failed mail (the DSN's recipient)
    std::string login;                ///< that sender's SASL login when known, else empty
    std::string recipient;            ///< the recipient that failed
    std::string recipient_domain;     ///< its domain, lower case
    std::string remote_host;          ///< the server that refused, when known
    std::string action;               ///< "failed" or "delayed"
    bool permanent = true;            ///< failed for good (a hard bounce) or still trying
    int reply_code = 0;               ///< basic SMTP code, 0 when none
    std::string enhanced_code;        ///< RFC 3463 code (derived "5.0.9xx" when none given)
    std::string category;             ///< explanation category (sisimai reason names)
    std::string summary;              ///< one line from the catalog
    std::string diagnostic;           ///< the remote's text
    std::string entry_id;             ///< catalog entry that explained it
    std::string original_message_id;  ///< Message-ID of the failed mail, when returned
    std::string original_queue_id;    ///< its queue id, when the MTA says (Postfix does)
    std::string report_format;        ///< "delivery-status" or "heuristic"
};

/// Told about every outgoing failure; called on the milter thread at end of message, so
/// an implementation must be thread-safe, quick and never block (queue the work).
class OutgoingFailureSink {
  public:
    virtual ~OutgoingFailureSink() = default;
    virtual void on_outgoing_failure(const OutgoingFailure& failure) noexcept = 0;
};

}  // namespace mailwarden::policy
