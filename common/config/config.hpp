// config.hpp - the typed configuration. Built only by config::load_* (loader.hpp), which
// validates every value; after that a Config is immutable and shared as
// std::shared_ptr<const Config>, so a reload never changes a message mid-flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "policy/action.hpp"
#include "util/error.hpp"
#include "util/ip_address.hpp"

namespace mailwarden::config {

using std::chrono::milliseconds;

/// Where log lines go.
enum class LogTarget { Stderr, Syslog };

struct LogConfig {
    LogTarget target = LogTarget::Stderr;
    std::string level = "info";  ///< trace, debug, info, warning, error
    std::string syslog_facility = "mail";
    std::string syslog_ident = "mailwarden";
};

/// Ownership and mode of a unix: listening socket (ignored for inet sockets).
struct SocketConfig {
    std::uint32_t mode = 0660;
    std::string owner;  ///< user name; empty = the daemon's user
    std::string group;  ///< group name; empty = the daemon's group
};

struct RedisConfig {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string unix_socket;  ///< when set, used instead of host/port
    std::string password;
    int db = 0;
    std::string prefix = "mw:";
    milliseconds connect_timeout{200};
    milliseconds command_timeout{500};
    int pool_size = 8;
};

enum class StoreBackend { Memory, Redis };

struct StoreConfig {
    StoreBackend backend = StoreBackend::Memory;
    RedisConfig redis;
    std::size_t memory_max_events = 10'000;  ///< MemoryStore ring size
};

struct EventsConfig {
    std::size_t queue_capacity = 10'000;
    std::size_t batch_size = 256;
    milliseconds flush_interval{200};
    std::filesystem::path journal = "/var/lib/mailwarden/events.journal";
    std::uint64_t journal_max_size = std::uint64_t{1} << 30;
    milliseconds retry_interval{5000};
    std::size_t stream_max_length = 1'000'000;   ///< mw:events MAXLEN ~
    std::size_t sender_stream_max_length = 100;  ///< mw:sender:{addr} MAXLEN ~
    milliseconds counter_retention{35LL * 24 * 3600 * 1000};
};

/// What an access rule matches on.
enum class AccessField { Sender, Recipient, Client, Helo };

/// One access-list rule: the first rule that matches decides.
struct AccessRule {
    std::string name;  ///< for logs and events; default "access_list[N]"
    AccessField field = AccessField::Sender;
    /// Addresses ("user@example.com"), domains ("@example.com" exact, ".example.com" any
    /// subdomain), bare local parts ("postmaster@"), host names (helo) as written, lower-case.
    std::vector<std::string> patterns;
    std::vector<util::Cidr> networks;  ///< for AccessField::Client
    policy::Action action = policy::Action::Reject;
    int code = 0;                ///< 0 = 550 for reject, 451 for tempfail
    std::string enhanced;        ///< empty = 5.7.1 / 4.7.1
    std::string reply;           ///< reply text; '\n' separates lines
    bool warn_only = false;      ///< mode: warn — log and record, do not act
    bool final = false;          ///< allow only: skip the later checks too
    util::SourcePosition where;  ///< where in the config the rule was written
};

struct HeadersConfig {
    bool add_status = true;  ///< add the status header to accepted mail
    std::string status_name = "X-Mailwarden";
};

/// The resolver every DNS-based check uses (libunbound), or a static zone for tests.
struct DnsConfig {
    milliseconds timeout{5000};                    ///< per query; past it the check sees a timeout
    std::vector<std::string> forwarders;           ///< "192.0.2.53" or "127.0.0.1@5353"
    std::string resolv_conf = "/etc/resolv.conf";  ///< used when forwarders is empty
    std::string trust_anchor;                      ///< DNSSEC root key file; empty = no validation
    /// Answer every query from this YAML zone instead (the SPF test-suite `zonedata`
    /// format). For tests, benchmarks and demos only: nothing is asked on the network.
    std::string zone_file;
};

/// The SPF check at MAIL FROM (RFC 7208).
struct SpfConfig {
    bool enabled = true;
    bool check_outbound = false;  ///< also check authenticated/trusted senders
    bool check_helo = false;      ///< check the HELO identity for every message
    milliseconds result_cache_ttl{300'000};
    std::size_t result_cache_max_entries = 10'000;
    milliseconds time_limit{20'000};  ///< RFC 7208 §4.6.4 bound on one evaluation
    bool defer_fail_to_dmarc = true;  ///< let an enforcing DMARC policy decide a fail
    bool add_received_spf_header = true;
    std::string authserv_id;  ///< empty: the hostname
    bool warn_only = false;   ///< mode: warn
    /// Action per result name (pass, fail, softfail, neutral, none, temperror, permerror).
    std::map<std::string, policy::Action> actions = {
        {"fail", policy::Action::Reject},
        {"temperror", policy::Action::Tempfail},
    };
};

/// DKIM verification (RFC 6376, RFC 8301, RFC 8463), inbound mail by default.
struct DkimConfig {
    bool enabled = true;
    bool check_outbound = false;      ///< also verify signatures on outbound mail
    std::size_t max_signatures = 10;  ///< signatures verified per message
    unsigned min_rsa_bits = 1024;     ///< shorter RSA keys give permerror (RFC 8301)
    bool allow_rsa_sha1 = false;      ///< RFC 8301: rsa-sha1 is not valid
};

/// What DMARC enforcement does with a failing message.
enum class DmarcAction {
    None,        ///< record only
    Tag,         ///< add a header that says the message failed, deliver
    Quarantine,  ///< accept into the MTA's hold queue
    Reject,      ///< 550 5.7.1 with an explanation
};

/// DMARC (RFC 9989) at end of message, inbound mail by default.
struct DmarcConfig {
    bool enabled = true;
    bool check_outbound = false;
    /// "tree-walk" (RFC 9989 §4.10) or "psl" (RFC 7489 §3.2 with the Public Suffix List).
    std::string org_domain_method = "tree-walk";
    std::string psl_file = "/usr/share/publicsuffix/public_suffix_list.dat";
    DmarcAction on_reject = DmarcAction::Reject;             ///< failures under p=reject
    DmarcAction on_quarantine = DmarcAction::Quarantine;     ///< failures under p=quarantine
    policy::Action on_temperror = policy::Action::Continue;  ///< continue | tempfail
    bool warn_only = false;                                  ///< mode: warn
};

/// The Authentication-Results header (RFC 8601).
struct AuthResultsConfig {
    bool enabled = true;
    std::string authserv_id;    ///< empty: the hostname
    bool remove_forged = true;  ///< drop incoming fields that claim our authserv-id
};

/// The outbound DMARC preflight: predicts the receiver's DMARC verdict for mail from
/// authenticated or trusted senders (uses outbound_ips and dkim_signing_domains).
enum class PreflightAction { Warn, Header, Reject };
struct PreflightConfig {
    bool enabled = true;
    PreflightAction action = PreflightAction::Warn;
    std::string header_name = "X-Mailwarden-Preflight";
};

/// The bounce check: delivery reports (DSNs) explained, recorded and rewritten. Postfix
/// passes its own bounces through non_smtpd_milters with internal_mail_filter_classes =
/// bounce; they are never refused whatever other checks say.
struct BounceConfig {
    bool enabled = true;
    bool rewrite = true;                  ///< add the explanation to the bounce itself
    std::uint64_t max_bytes = 10u << 20;  ///< larger bounces are left untouched (logged)
    /// The explanation catalog; empty: /etc/mailwarden/explanations.yaml, else the one
    /// beside the source tree (development builds). An explicit file that fails to load
    /// is a config error; a missing default disables the check with a warning.
    std::string catalog;
    std::string header_name = "X-Mailwarden-Explanation";  ///< carries the category
};

/// One rate-limit rule as written; ratelimit::Rule is built (and its values checked) from it
/// when the daemon builds its checks, with errors pointing at `where`.
struct RateRuleConfig {
    std::string name;
    std::string key = "login";        ///< login, sender, sender_domain, client_ip,
                                      ///< client_prefix, recipient, joined with '+'
    std::string counts = "messages";  ///< messages | recipients
    std::vector<std::string> limits;  ///< "30/1m", "500/1d"
    std::string scope = "outbound";   ///< inbound | outbound | both
    std::string action = "tempfail";  ///< tempfail | reject | quarantine
    std::vector<std::string> exempt_logins;
    std::vector<util::Cidr> exempt_networks;
    std::map<std::string, std::vector<std::string>> overrides;  ///< login -> limits
    util::SourcePosition where;
};

/// Sender rate limits, shared by the fleet through Redis (or per node in memory).
struct RateLimitConfig {
    milliseconds fallback_retry{1000};  ///< Redis down: local limiter, retry this often
    std::size_t local_max_buckets = 1'000'000;
    std::vector<RateRuleConfig> rules;
    /// How often the store's per-login overrides (mailwardenctl override) are reloaded.
    milliseconds override_refresh{10'000};
};

/// When one compromised-account signal fires (see ratelimit::SignalThreshold).
struct AccountSignalConfig {
    std::uint64_t min = 0;
    std::uint64_t multiple = 0;
    std::uint64_t floor = 0;
    std::uint64_t percent = 0;
    int points = 0;
};

/// The compromised-account detector for authenticated senders (`accounts:`); defaults as
/// documented in conf/mailwarden.yaml.
struct AccountsConfig {
    bool enabled = false;
    std::string action = "quarantine";          ///< quarantine | tempfail (for a held login's mail)
    milliseconds window{3'600'000};             ///< activity is scored per window
    milliseconds half_life{7LL * 86'400'000};   ///< of the baseline's decaying averages
    milliseconds release_grace{3'600'000};      ///< no new hold this long after a release
    milliseconds idle_ttl{30LL * 86'400'000};   ///< an unused account is forgotten after this
    milliseconds sender_ttl{3LL * 86'400'000};  ///< envelope sender -> login, for bounces
    std::size_t known_domains = 500;            ///< recipient domains remembered per login
    std::size_t tracked_client_ips = 256;       ///< client IPs remembered per login and day
    std::size_t local_max_accounts = 100'000;   ///< memory store: logins tracked at most
    int hold_score = 4;
    AccountSignalConfig volume{50, 10, 5, 0, 2};
    AccountSignalConfig client_ips{15, 5, 3, 0, 1};
    AccountSignalConfig client_networks{10, 5, 2, 0, 2};
    AccountSignalConfig new_domains{50, 10, 5, 0, 2};
    AccountSignalConfig refused_recipients{20, 0, 0, 30, 1};
    AccountSignalConfig bounces{10, 0, 0, 20, 1};
    AccountSignalConfig new_from_domains{3, 0, 0, 0, 1};
    std::vector<std::string> exempt_logins;
};

/// The daemon's read-only HTTP control API (events, status) for mailwardenctl and, later,
/// the dashboard. Loopback by default; it never changes anything.
struct ControlConfig {
    bool enabled = true;
    std::string host = "127.0.0.1";
    int port = 8893;
};

/// Which implementation speaks the milter protocol to the MTA (a restart applies a change).
enum class MilterEngine {
    Libmilter,  ///< Sendmail's libmilter (the default)
    Native,     ///< milter/native: buffered I/O, one thread per MTA connection
};

/// The whole configuration.
struct Config {
    std::filesystem::path source;  ///< file it was loaded from
    std::string listen = "inet:8891@127.0.0.1";
    SocketConfig socket;
    std::string user;  ///< drop to this user after binding (root only)
    std::string group;
    std::string hostname;                   ///< for headers; empty = gethostname()
    milliseconds shutdown_timeout{30'000};  ///< SIGTERM: wait this long for transactions
    milliseconds milter_timeout{300'000};   ///< libmilter read timeout (smfi_settimeout)
    MilterEngine milter_engine = MilterEngine::Libmilter;         ///< milter_engine
    policy::Action on_internal_error = policy::Action::Tempfail;  ///< accept | tempfail
    LogConfig log;
    StoreConfig store;
    EventsConfig events;
    std::vector<util::Cidr> trusted_networks;  ///< clients here count as outbound
    /// The addresses this site's MTAs send outbound mail from (SPF of the envelope domain
    /// must authorise them): used by the DMARC preflight and the bounce diagnosis.
    std::vector<util::Cidr> outbound_ips;
    /// Domains a signer after this milter (e.g. OpenDKIM) signs outbound mail for, lower
    /// case: the preflight counts an aligned DKIM signature for them as present.
    std::vector<std::string> dkim_signing_domains;
    HeadersConfig headers;
    ControlConfig control;
    DnsConfig dns;
    SpfConfig spf;
    DkimConfig dkim;
    DmarcConfig dmarc;
    AuthResultsConfig authentication_results;
    PreflightConfig preflight;
    RateLimitConfig ratelimit;
    AccountsConfig accounts;
    std::vector<AccessRule> access_list;
    BounceConfig bounce;
};

}  // namespace mailwarden::config
