// options.hpp - miltload's command line.
//
//   miltload --socket inet:PORT@127.0.0.1 -c CONNECTIONS (-n MESSAGES | -t SECONDS)
//            [--per-connection K] [--message FILE.eml ...] [--logins N] [--ips N] [--json]
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
    std::size_t messages = 1000;  ///< total, when seconds is 0
    double seconds = 0;           ///< run for this long instead of a message count
    int per_connection = 10;      ///< messages per milter connection, then reconnect
    std::vector<std::string> message_files;
    int logins = 0;  ///< spread {auth_authen} over this many logins (0 = unauthenticated)
    int ips = 1;     ///< spread the client address over this many IPs
    int rcpts = 1;   ///< recipients per message
    std::string sender = "sender@remote.test";  ///< when logins is 0
    std::string rcpt_domain = "local.test";
    std::size_t chunk = 65535;  ///< body chunk size (at most 64 KiB - 1)
    int timeout_ms = 10000;     ///< per read
    std::string expect;         ///< fail (exit 1) unless every message ends with this action
    bool json = false;
    bool client_nagle = false;  ///< leave Nagle on the load generator's own sockets
};

/// Parses argv; prints usage or an error and returns nullopt (exit code in `exit_code`).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace mailwarden::bench
