// workload.hpp - what miltload sends: messages (built in or .eml files) and envelope
// patterns that spread rate-limit keys over logins, senders and client IPs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "miltload/options.hpp"
#include "support/milter_client.hpp"
#include "util/error.hpp"

namespace mailwarden::bench {

/// Headers and body of one message, ready for the milter client.
struct MessageTemplate {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  ///< CRLF line ends
};

/// The built-in message: about 2 KB of plain text.
MessageTemplate builtin_message();

/// Parses an .eml file (LF or CRLF; folded headers are unfolded as the MTA sends them).
util::Result<MessageTemplate> load_message(const std::string& path);

/// Builds the n-th connection's client and the n-th message's envelope.
class Workload {
  public:
    static util::Result<Workload> create(const Options& options);

    /// Client of connection number `n` (address from the --ips pattern).
    testing::ConnectInfo client(std::uint64_t n) const;
    /// Message number `n`: envelope from the --logins/--senders/--rcpts patterns, content
    /// in turn, body chunks of --chunk bytes.
    testing::MessageSpec message(std::uint64_t n) const;
    /// The macros Postfix sends with `message` from `client` (smtpd's, or with --non-smtp
    /// those of pickup/bounce(8): `i` and the address only at MAIL and RCPT).
    testing::PostfixMacros macros(const testing::ConnectInfo& client,
                                  const testing::MessageSpec& message) const;

  private:
    Options options_;
    std::vector<MessageTemplate> templates_;
};

}  // namespace mailwarden::bench
