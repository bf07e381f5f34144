// transaction.hpp - what the pipeline knows about one connection and the message in it.
//
// The milter session fills it from the MTA's callbacks and macros; checks read it and
// may record typed outcomes for checks that declare a dependency on them. Not
// thread-safe: one transaction belongs to one libmilter connection thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/dkim/result.hpp"
#include "auth/dmarc/evaluator.hpp"
#include "auth/spf/evaluator.hpp"
#include "policy/message_kind.hpp"
#include "policy/outgoing_failure.hpp"
#include "policy/stage.hpp"
#include "smtp/address.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::policy {

/// Outbound mail comes from an authenticated or trusted client; the rest is inbound.
enum class Direction { Inbound, Outbound };

constexpr std::string_view to_string(Direction d) noexcept {
    return d == Direction::Outbound ? "outbound" : "inbound";
}

/// Facts about the SMTP connection; kept across the messages of the connection.
struct ConnectionInfo {
    std::string client_name;                   ///< as the MTA resolved it ("unknown" if none)
    std::optional<util::IpAddress> client_ip;  ///< absent for unix-socket/local clients
    int client_port = 0;
    std::string helo;
    std::string daemon_name;   ///< {daemon_name}: e.g. ORIGINATING
    std::string mta_hostname;  ///< j: the MTA's own name
};

/// One header field as received: the name as written and the value as everything after
/// the colon (leading space and folding kept, folds as the MTA sent them: LF or CRLF).
struct HeaderField {
    std::string name;
    std::string value;
};

/// Facts about the current message; reset at every MAIL FROM.
struct MessageInfo {
    std::string queue_id;                   ///< macro i; empty until the MTA assigns one
    std::string raw_mail_from;              ///< as the MTA sent it ("<a@b>", "", "a@b")
    smtp::Address mail_from;                ///< parsed envelope sender (null sender: empty)
    std::vector<std::string> mail_args;     ///< ESMTP parameters of MAIL FROM
    std::string auth_login;                 ///< {auth_authen}
    std::string auth_type;                  ///< {auth_type}
    std::vector<smtp::Address> recipients;  ///< accepted recipients so far
    std::vector<HeaderField> headers;
    bool headers_truncated = false;  ///< more fields arrived than the session keeps
    std::uint64_t body_bytes = 0;
    Direction direction = Direction::Inbound;
    /// Typed outcomes of checks that later checks depend on (DMARC reads SPF's).
    std::optional<auth::spf::Outcome> spf;
    /// DKIM results, one per signature; `dkim_evaluated` says the DKIM check ran.
    std::vector<auth::dkim::SignatureResult> dkim;
    bool dkim_evaluated = false;
    std::optional<auth::dmarc::Outcome> dmarc;
    /// DeliveryReport once the bounce check recognised the message as a DSN: the verdict
    /// may then not refuse it (policy::compose).
    MessageKind kind = MessageKind::Ordinary;
    /// The failed and delayed recipients that DSN reports (recorded as events).
    std::vector<OutgoingFailure> outgoing_failures;
};

/// The connection plus the current message.
struct Transaction {
    ConnectionInfo connection;
    MessageInfo message;
    /// The recipient being decided at Stage::Rcpt (raw and parsed).
    std::string current_rcpt_raw;
    smtp::Address current_rcpt;

    /// Forgets the message; keeps the connection (RSET, a new MAIL FROM, an abort).
    void reset_message() {
        message = MessageInfo{};
        current_rcpt_raw.clear();
        current_rcpt = {};
    }
    /// "NOQUEUE" until the queue id is known.
    std::string queue_id_or_noqueue() const {
        return message.queue_id.empty() ? "NOQUEUE" : message.queue_id;
    }
};

}  // namespace mailwarden::policy
