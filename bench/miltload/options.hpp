// options.hpp - miltload's command line.
//
//   miltload --socket inet:PORT@127.0.0.1 -c CONNECTIONS [-n MESSAGES] [-t SECONDS]
//            [--per-connection K] [--message FILE.eml ...] [--logins N] [--ips N]
//            [--senders N] [--non-smtp] [--expect ACTION] [--expect-header TEXT] [--json]
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mailwarden::bench {

/// Everything a run is parameterised by.
struct Options {
    std::string socket;
    int connections = 16;
    std::size_t messages = 1000;  ///< at most this many in all
    double seconds = 0;           ///< and at most this long (0: no time bound)
    int per_connection = 10;      ///< messages per milter connection, then reconnect
    std::vector<std::string> message_files;
    int logins = 0;  ///< spread {auth_authen} over this many logins (0 = unauthenticated)
    std::string login_domain = "bench.test";    ///< logins are user<N>@login_domain
    int ips = 1;                                ///< spread the client address over this many IPs
    int rcpts = 1;                              ///< recipients per message
    std::string sender = "sender@remote.test";  ///< when logins is 0; "" = null sender <>
    int senders = 1;  ///< spread the sender's local part over N addresses (when logins is 0)
    /// Envelope as Postfix's pickup and bounce(8) send it through non_smtpd_milters:
    /// bare addresses (no angle brackets, "" for the null sender), client localhost
    /// [127.0.0.1] port 0, HELO localhost, only `i` and the address as MAIL/RCPT macros.
    bool non_smtp = false;
    std::string rcpt_domain = "local.test";
    std::size_t chunk = 65535;  ///< body chunk size (at most 64 KiB - 1)
    int timeout_ms = 10000;     ///< per read
    std::string expect;         ///< fail (exit 1) unless every message ends with this action
    /// Fail (exit 1) unless every message got an added header whose "Name: value" contains
    /// this text (e.g. "dkim=pass"); the count is reported either way.
    std::string expect_header;
    bool json = false;
    bool show_first = false;    ///< print the first message's outcome (reply, header edits)
    bool client_nagle = false;  ///< leave Nagle on the load generator's own sockets
    /// Packets that wait for no reply are buffered up to this many bytes and sent with the
    /// next one that does, as Postfix's 4096-byte VSTREAM buffer does (0: one write each).
    std::size_t write_buffer = 4096;
};

/// Parses argv; prints usage or an error and returns nullopt (exit code in `exit_code`).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace mailwarden::bench
