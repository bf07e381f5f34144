// options.cpp - CLI11 parsing and validation of miltload's options.
//
// -n and -t bound a run by count and by time (whichever comes first; -t alone: time only);
// ranges are checked here so that the workers never see a
// zero connection count, an empty IP pattern or a body chunk above 64 KiB - 1.
#include "miltload/options.hpp"

#include <limits>

#include <CLI/CLI.hpp>

namespace mailwarden::bench {

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
    Options o;
    CLI::App app{"miltload - drives a milter over the milter protocol (v6) like Postfix"};
    app.add_option("--socket,-s", o.socket,
                   "milter socket: inet:PORT@HOST, inet:HOST:PORT, inet6:..., unix:/path")
        ->required();
    app.add_option("-c,--connections", o.connections, "concurrent connections (threads)")
        ->check(CLI::Range(1, 4096));
    auto* n =
        app.add_option("-n,--messages", o.messages, "total messages (with -t: at most this many)");
    auto* t = app.add_option("-t,--seconds", o.seconds,
                             "run for this many seconds (with -n: at most this long)")
                  ->check(CLI::PositiveNumber);
    app.add_option("--per-connection,-k", o.per_connection, "messages per milter connection")
        ->check(CLI::Range(1, 1000000));
    app.add_option("--message,-m", o.message_files, ".eml files (used in turn)")
        ->check(CLI::ExistingFile);
    app.add_option("--logins", o.logins, "spread SASL logins over N accounts (0 = none)")
        ->check(CLI::Range(0, 10000000));
    app.add_option("--login-domain", o.login_domain,
                   "domain of the logins user0@DOMAIN ... (also their sender)");
    app.add_option("--ips", o.ips, "spread client IPs over N addresses")
        ->check(CLI::Range(1, 16000000));
    app.add_option("--rcpts", o.rcpts, "recipients per message")->check(CLI::Range(1, 1000));
    app.add_option("--sender", o.sender,
                   "envelope sender when --logins is 0 (\"\" for the null sender)");
    app.add_option("--senders", o.senders,
                   "spread the sender over N addresses: local part + 0 .. N-1 (N > 1)")
        ->check(CLI::Range(1, 10000000));
    auto* non_smtp = app.add_flag(
        "--non-smtp", o.non_smtp,
        "envelope as Postfix's pickup/bounce(8) send it (bare addresses, localhost, port 0)");
    app.add_option("--rcpt-domain", o.rcpt_domain, "domain of the recipients");
    app.add_option("--chunk", o.chunk, "body chunk size")->check(CLI::Range(1, 65535));
    app.add_option("--timeout-ms", o.timeout_ms, "deadline of each read")
        ->check(CLI::Range(1, 600000));
    app.add_option("--expect", o.expect,
                   "exit 1 unless every message ends with this action (accept, reject, ...)");
    app.add_option("--expect-header", o.expect_header,
                   "exit 1 unless every message got an added header containing this text");
    app.add_flag("--json", o.json, "print the result as JSON");
    app.add_flag("--show-first", o.show_first,
                 "print the first message's final reply and header edits to stderr");
    app.add_option("--write-buffer", o.write_buffer,
                   "buffer no-reply packets up to BYTES as Postfix does (0: write each)")
        ->check(CLI::Range(0, 1 << 20));
    app.add_flag("--client-nagle", o.client_nagle,
                 "keep Nagle's algorithm on miltload's sockets (default: TCP_NODELAY)");
    try {
        app.parse(argc, argv);
        if (t->count() > 0 && n->count() == 0) {
            o.messages = std::numeric_limits<std::size_t>::max();  // bounded by time only
        }
        if (o.non_smtp && (o.rcpts != 1 || o.logins > 0 || o.ips != 1)) {
            // bound to the single client and recipient of Postfix's internal submissions
            throw CLI::ValidationError(non_smtp->get_name(),
                                       "takes one recipient, no logins and one client address");
        }
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return std::nullopt;
    }
    return o;
}

}  // namespace mailwarden::bench
