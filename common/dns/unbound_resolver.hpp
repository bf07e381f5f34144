// unbound_resolver.hpp - the production Resolver, on libunbound.
//
// One ub_ctx (shared cache) serves every libmilter thread. Queries run asynchronously
// inside libunbound and one background thread delivers results; each caller waits at most
// its per-query timeout and then gets Rcode::Timeout (the query is cancelled). Upstreams:
// the system resolv.conf by default, or configured forwarders ("host" or "host@port");
// DNSSEC validation when a trust anchor file is given. Thread-safe; never throws.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dns/resolver.hpp"
#include "util/error.hpp"

namespace mailwarden::dns {

/// How UnboundResolver finds and waits for answers.
struct UnboundOptions {
    /// Longest wait for one query; past it the answer is Rcode::Timeout.
    std::chrono::milliseconds query_timeout{5000};
    /// Upstream resolvers, "192.0.2.53" or "192.0.2.53@5353". Empty: use resolv_conf.
    std::vector<std::string> forwarders;
    /// Read when forwarders is empty; an empty path means full recursion from the roots.
    std::string resolv_conf = "/etc/resolv.conf";
    /// A DNSSEC trust anchor file (e.g. /usr/share/dns/root.key); empty = no validation.
    std::string trust_anchor_file;
};

/// A Resolver backed by libunbound.
class UnboundResolver final : public Resolver {
  public:
    /// Creates the context and its delivery thread. Config when a forwarder, the
    /// resolv.conf or the trust anchor is rejected by libunbound; Internal on system errors.
    static util::Result<std::unique_ptr<UnboundResolver>> create(UnboundOptions options);

    ~UnboundResolver() override;
    UnboundResolver(const UnboundResolver&) = delete;
    UnboundResolver& operator=(const UnboundResolver&) = delete;

    Answer<TxtRecord> txt(std::string_view name) override;
    Answer<util::IpAddress> a(std::string_view name) override;
    Answer<util::IpAddress> aaaa(std::string_view name) override;
    Answer<MxRecord> mx(std::string_view name) override;
    Answer<std::string> ptr(const util::IpAddress& address) override;

    struct Impl;  // libunbound stays inside unbound_resolver.cpp

  private:
    explicit UnboundResolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace mailwarden::dns
