// static_resolver.hpp - an in-memory DNS zone for tests, the CLI (--dns-zone) and benchmarks.
//
// Loads the SPF test suite's `zonedata` shape (name -> list of {TYPE: value}, TIMEOUT
// markers), the one zone format of the project. CNAMEs are followed like a recursive
// resolver would (loops give ServFail). Every query is logged so tests can count lookups.
// Thread-safe (one mutex); never throws: YAML errors come back as InvalidInput.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dns/resolver.hpp"
#include "util/error.hpp"

namespace YAML {
class Node;
}

namespace mailwarden::dns {

/// A record type as the zone format names it.
enum class RecordType { A, Aaaa, Txt, Spf, Mx, Ptr, Cname };

/// "A", "AAAA", "TXT", "SPF", "MX", "PTR", "CNAME".
std::string_view to_string(RecordType type);

/// One query as the StaticResolver saw it (name normalized, before CNAMEs were followed).
struct LoggedQuery {
    RecordType type;
    std::string name;
    friend bool operator==(const LoggedQuery&, const LoggedQuery&) = default;
};

/// A Resolver over a zone held in memory.
///
/// Zone semantics (those of the OpenSPF suite driver): names compare case-insensitively;
/// a name that is not in the zone (and is not an ancestor of one) is NXDOMAIN; a name
/// without records of the asked type is NODATA; a `TIMEOUT` (or `SERVFAIL`, `REFUSED`)
/// marker makes every type without a record listed before it fail that way; a name with
/// no explicit TXT item serves its SPF items as TXT; `TXT: NONE` says "no TXT record".
class StaticResolver final : public Resolver {
  public:
    StaticResolver() = default;
    StaticResolver(const StaticResolver&) = delete;
    StaticResolver& operator=(const StaticResolver&) = delete;

    /// Adds the zone in `zonedata` (a YAML map, as in the suite). InvalidInput naming the
    /// entry when an item is malformed; entries loaded before the bad one stay.
    util::Result<void> load(const YAML::Node& zonedata);
    /// Parses `yaml` text (a map of names, or a document with a `zonedata:` key) and loads it.
    util::Result<void> load_text(std::string_view yaml);
    /// Reads and loads a zone file. NotFound when it cannot be read, InvalidInput with the
    /// line and column when it does not parse.
    util::Result<void> load_file(const std::filesystem::path& path);

    /// Programmatic zone building for unit tests. Values are validated as in load().
    void add_a(std::string_view name, const util::IpAddress& address);
    void add_aaaa(std::string_view name, const util::IpAddress& address);
    void add_txt(std::string_view name, std::vector<std::string> strings);
    void add_txt(std::string_view name, std::string text);
    void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange);
    void add_ptr(std::string_view reverse, std::string_view target);
    void add_cname(std::string_view name, std::string_view target);
    /// From now on, types of `name` without a record already added fail with `rcode`.
    void add_failure(std::string_view name, Rcode rcode);

    /// TTL reported in every answer (default kDefaultTtl).
    void set_ttl(std::chrono::seconds ttl);

    Answer<TxtRecord> txt(std::string_view name) override;
    Answer<util::IpAddress> a(std::string_view name) override;
    Answer<util::IpAddress> aaaa(std::string_view name) override;
    Answer<MxRecord> mx(std::string_view name) override;
    Answer<std::string> ptr(const util::IpAddress& address) override;

    /// Queries answered so far, in order.
    std::vector<LoggedQuery> queries() const;
    /// Number of queries answered so far.
    std::size_t query_count() const;
    /// Forgets the query log (not the zone).
    void clear_log();

    static constexpr std::chrono::seconds kDefaultTtl{3600};
    /// CNAME chains longer than this are answered with ServFail (as a loop would be).
    static constexpr int kMaxCnameChain = 8;

  private:
    struct Item {
        RecordType type = RecordType::Txt;
        bool is_failure = false;
        bool is_none = false;  // TXT: NONE
        Rcode failure = Rcode::NoError;
        std::vector<std::string> strings{};  // TXT/SPF
        std::string target{};                // PTR, CNAME, MX exchange
        std::uint16_t preference = 0;        // MX
        util::IpAddress address{};           // A, AAAA
    };
    struct Node {
        std::vector<Item> items;
        bool explicit_txt = false;
    };
    struct Found {
        Rcode rcode = Rcode::NoData;
        std::vector<const Item*> items;
    };

    void add_item(std::string_view name, Item item);
    Found find(RecordType type, std::string_view name);  // caller holds mutex_
    template <class T, class Convert>
    Answer<T> query(RecordType type, std::string_view name, Convert convert);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Node> zone_;
    std::unordered_set<std::string> ancestors_;
    std::vector<LoggedQuery> log_;
    std::chrono::seconds ttl_ = kDefaultTtl;
};

}  // namespace mailwarden::dns
