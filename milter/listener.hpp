// listener.hpp - tuning of libmilter's listening socket, which libmilter keeps private.
#pragma once

#include <string>

#include "config/config.hpp"
#include "util/error.hpp"

namespace mailwarden::milter {

/// Sets TCP_NODELAY on this process's listening TCP sockets. Accepted sockets inherit it
/// on Linux, which removes the ~40 ms stall when a milter sends a modification (an added
/// header) before its final reply: Nagle's algorithm holding the final reply back until
/// the MTA's delayed ACK. Returns how many sockets were changed.
int enable_nodelay_on_listeners();

/// chmod/chown of a unix: socket path after libmilter created it.
util::Result<void> apply_socket_permissions(const std::string& listen,
                                            const config::SocketConfig& socket);

}  // namespace mailwarden::milter
