// ports.hpp - free loopback TCP ports for servers that tests start (Redis, the daemon,
// Postfix). The kernel picks the port; a process never hands out the same port twice.
#pragma once

#include <chrono>
#include <cstdint>

namespace mailwarden::testing {

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
std::uint16_t free_tcp_port();

/// True when a TCP connect to 127.0.0.1:port succeeds.
bool port_accepts(std::uint16_t port);

/// Waits (bounded) until 127.0.0.1:port accepts connections.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace mailwarden::testing
