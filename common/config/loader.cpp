#include "config/loader.hpp"

#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "config/units.hpp"
#include "smtp/enhanced_status.hpp"
#include "util/ascii.hpp"

namespace mailwarden::config {

namespace {

// Collects errors with positions while the YAML tree is walked.
class Context {
  public:
    explicit Context(std::string file) : file_(std::move(file)) {}

    void error(const YAML::Mark& mark, std::string message) {
        util::Error e{util::ErrorCode::Config, std::move(message), std::nullopt};
        if (mark.line >= 0) {
            e.where = util::SourcePosition{file_, mark.line + 1, mark.column + 1};
        } else {
            e.where = util::SourcePosition{file_, 0, 0};
        }
        errors_.push_back(std::move(e));
    }
    util::SourcePosition position(const YAML::Mark& mark) const {
        return {file_, mark.line + 1, mark.column + 1};
    }
    std::vector<util::Error>& errors() { return errors_; }

  private:
    std::string file_;
    std::vector<util::Error> errors_;
};

std::string kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Null:
            return "empty";
        default:
            return "undefined";
    }
}

// A mapping whose keys are checked against the ones the loader asks for.
class Section {
  public:
    Section(Context& ctx, const YAML::Node& node, std::string path)
        : ctx_(ctx), node_(node), path_(std::move(path)) {
        if (!node_.IsMap() && !node_.IsNull()) {
            ctx_.error(node_.Mark(),
                       fmt::format("'{}' must be a mapping, not {}", path_, kind_of(node_)));
            valid_ = false;
        }
    }
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;
    ~Section() { report_unknown(); }

    // Calls parse(value) when `key` is present.
    void field(std::string_view key, const std::function<void(const YAML::Node&)>& parse) {
        known_.insert(std::string(key));
        if (!valid_ || node_.IsNull()) {
            return;
        }
        const YAML::Node value = node_[std::string(key)];
        if (value.IsDefined()) {
            parse(value);
        }
    }
    std::string child(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    Context& ctx() { return ctx_; }

  private:
    void report_unknown() {
        if (!valid_ || !node_.IsMap()) {
            return;
        }
        for (const auto& item : node_) {
            const auto key = item.first.as<std::string>("");
            if (!known_.contains(key)) {
                std::string known;
                for (const auto& k : known_) {
                    known += known.empty() ? k : ", " + k;
                }
                ctx_.error(item.first.Mark(),
                           fmt::format("unknown key '{}'{} (known: {})", key,
                                       path_.empty() ? "" : " in '" + path_ + "'", known));
            }
        }
    }

    Context& ctx_;
    YAML::Node node_;
    std::string path_;
    bool valid_ = true;
    std::set<std::string> known_;
};

bool scalar(Context& ctx, const YAML::Node& node, std::string_view path, std::string& out) {
    if (!node.IsScalar()) {
        ctx.error(node.Mark(), fmt::format("'{}' must be a scalar, not {}", path, kind_of(node)));
        return false;
    }
    out = node.Scalar();
    return true;
}

void read_string(Section& s, std::string_view key, std::string& out) {
    s.field(key, [&](const YAML::Node& n) { scalar(s.ctx(), n, s.child(key), out); });
}

void read_bool(Section& s, std::string_view key, bool& out) {
    s.field(key, [&](const YAML::Node& n) {
        std::string text;
        if (!scalar(s.ctx(), n, s.child(key), text)) {
            return;
        }
        const auto v = util::to_lower(text);
        if (v == "true" || v == "yes" || v == "on") {
            out = true;
        } else if (v == "false" || v == "no" || v == "off") {
            out = false;
        } else {
            s.ctx().error(n.Mark(),
                          fmt::format("'{}' must be true or false, not '{}'", s.child(key), text));
        }
    });
}

template <class Int>
void read_int(Section& s, std::string_view key, Int& out, long long min, long long max) {
    s.field(key, [&](const YAML::Node& n) {
        std::string text;
        if (!scalar(s.ctx(), n, s.child(key), text)) {
            return;
        }
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size()) {
            s.ctx().error(n.Mark(),
                          fmt::format("'{}' must be a whole number, not '{}'", s.child(key), text));
        } else if (v < min || v > max) {
            s.ctx().error(n.Mark(), fmt::format("'{}' must be between {} and {}, not {}",
                                                s.child(key), min, max, v));
        } else {
            out = static_cast<Int>(v);
        }
    });
}

void read_duration(Section& s, std::string_view key, milliseconds& out, milliseconds min,
                   milliseconds max) {
    s.field(key, [&](const YAML::Node& n) {
        std::string text;
        if (!scalar(s.ctx(), n, s.child(key), text)) {
            return;
        }
        auto d = parse_duration(text);
        if (!d) {
            s.ctx().error(n.Mark(), fmt::format("'{}': {}", s.child(key), d.error().message));
        } else if (*d < min || *d > max) {
            s.ctx().error(n.Mark(), fmt::format("'{}' must be between {}ms and {}ms, not {}",
                                                s.child(key), min.count(), max.count(), text));
        } else {
            out = *d;
        }
    });
}

void read_size(Section& s, std::string_view key, std::uint64_t& out, std::uint64_t min) {
    s.field(key, [&](const YAML::Node& n) {
        std::string text;
        if (!scalar(s.ctx(), n, s.child(key), text)) {
            return;
        }
        auto v = parse_size(text);
        if (!v) {
            s.ctx().error(n.Mark(), fmt::format("'{}': {}", s.child(key), v.error().message));
        } else if (*v < min) {
            s.ctx().error(n.Mark(),
                          fmt::format("'{}' must be at least {} bytes", s.child(key), min));
        } else {
            out = *v;
        }
    });
}

// A scalar or a list of scalars.
void read_string_list(Section& s, std::string_view key, std::vector<std::string>& out,
                      std::vector<YAML::Mark>* marks = nullptr) {
    s.field(key, [&](const YAML::Node& n) {
        auto add = [&](const YAML::Node& item) {
            std::string text;
            if (scalar(s.ctx(), item, s.child(key), text)) {
                out.push_back(text);
                if (marks != nullptr) {
                    marks->push_back(item.Mark());
                }
            }
        };
        if (n.IsSequence()) {
            for (const auto& item : n) {
                add(item);
            }
        } else {
            add(n);
        }
    });
}

void read_cidrs(Section& s, std::string_view key, std::vector<util::Cidr>& out) {
    std::vector<std::string> texts;
    std::vector<YAML::Mark> marks;
    read_string_list(s, key, texts, &marks);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto cidr = util::Cidr::parse(texts[i]);
        if (!cidr) {
            s.ctx().error(marks[i], fmt::format("'{}': {}", s.child(key), cidr.error().message));
        } else {
            out.push_back(*cidr);
        }
    }
}

template <class Enum>
void read_enum(Section& s, std::string_view key, Enum& out,
               std::initializer_list<std::pair<std::string_view, Enum>> choices) {
    s.field(key, [&](const YAML::Node& n) {
        std::string text;
        if (!scalar(s.ctx(), n, s.child(key), text)) {
            return;
        }
        std::string names;
        for (const auto& [name, value] : choices) {
            if (text == name) {
                out = value;
                return;
            }
            names += names.empty() ? std::string(name) : ", " + std::string(name);
        }
        s.ctx().error(n.Mark(),
                      fmt::format("'{}' must be one of {}, not '{}'", s.child(key), names, text));
    });
}

void load_log(Section& root, LogConfig& log) {
    root.field("log", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "log");
        read_enum(s, "target", log.target,
                  {{"stderr", LogTarget::Stderr}, {"syslog", LogTarget::Syslog}});
        read_enum(s, "level", log.level,
                  {{"trace", std::string("trace")},
                   {"debug", std::string("debug")},
                   {"info", std::string("info")},
                   {"warning", std::string("warning")},
                   {"error", std::string("error")}});
        read_string(s, "syslog_facility", log.syslog_facility);
        read_string(s, "syslog_ident", log.syslog_ident);
    });
}

void load_socket(Section& root, SocketConfig& socket) {
    root.field("socket", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "socket");
        s.field("mode", [&](const YAML::Node& m) {
            std::string text;
            if (!scalar(s.ctx(), m, "socket.mode", text)) {
                return;
            }
            unsigned v = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 8);
            if (ec != std::errc{} || end != text.data() + text.size() || v > 0777) {
                s.ctx().error(m.Mark(), fmt::format("'socket.mode' must be an octal mode such "
                                                    "as \"0660\", not '{}'",
                                                    text));
            } else {
                socket.mode = v;
            }
        });
        read_string(s, "owner", socket.owner);
        read_string(s, "group", socket.group);
    });
}

void load_store(Section& root, StoreConfig& store) {
    root.field("store", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "store");
        read_enum(s, "backend", store.backend,
                  {{"memory", StoreBackend::Memory}, {"redis", StoreBackend::Redis}});
        read_int(s, "memory_max_events", store.memory_max_events, 1, 10'000'000);
        s.field("redis", [&](const YAML::Node& r) {
            Section rs(s.ctx(), r, "store.redis");
            auto& redis = store.redis;
            read_string(rs, "host", redis.host);
            read_int(rs, "port", redis.port, 1, 65535);
            read_string(rs, "unix_socket", redis.unix_socket);
            read_string(rs, "password", redis.password);
            read_int(rs, "db", redis.db, 0, 1000);
            read_string(rs, "prefix", redis.prefix);
            read_duration(rs, "connect_timeout", redis.connect_timeout, milliseconds{1},
                          milliseconds{60'000});
            read_duration(rs, "command_timeout", redis.command_timeout, milliseconds{1},
                          milliseconds{60'000});
            read_int(rs, "pool_size", redis.pool_size, 1, 1024);
        });
    });
}

void load_events(Section& root, EventsConfig& events) {
    root.field("events", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "events");
        read_int(s, "queue_capacity", events.queue_capacity, 1, 10'000'000);
        read_int(s, "batch_size", events.batch_size, 1, 100'000);
        read_duration(s, "flush_interval", events.flush_interval, milliseconds{1},
                      milliseconds{60'000});
        std::string journal = events.journal.string();
        read_string(s, "journal", journal);
        if (journal.empty()) {
            s.ctx().error(n.Mark(), "'events.journal' must name a file");
        }
        events.journal = journal;
        read_size(s, "journal_max_size", events.journal_max_size, 4096);
        read_duration(s, "retry_interval", events.retry_interval, milliseconds{10},
                      milliseconds{3'600'000});
        read_int(s, "stream_max_length", events.stream_max_length, 100, 1'000'000'000);
        read_int(s, "sender_stream_max_length", events.sender_stream_max_length, 1, 1'000'000);
        read_duration(s, "counter_retention", events.counter_retention, milliseconds{3'600'000},
                      milliseconds{366LL * 86'400'000});
    });
}

void load_headers(Section& root, HeadersConfig& headers) {
    root.field("headers", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "headers");
        read_bool(s, "add_status", headers.add_status);
        read_string(s, "status_name", headers.status_name);
        const auto& name = headers.status_name;
        const bool ok = !name.empty() && name.size() <= 76 &&
                        name.find_first_of(": \t\r\n") == std::string::npos;
        if (!ok) {
            s.ctx().error(n.Mark(), fmt::format("'headers.status_name' is not a valid header "
                                                "field name: '{}'",
                                                name));
        }
    });
}

// Validates one pattern of an address rule; returns the normalised (lower-case) form.
std::optional<std::string> address_pattern(std::string_view text) {
    const auto trimmed = util::trim(text);
    if (trimmed == "<>") {  // the null sender
        return std::string(trimmed);
    }
    if (trimmed.empty() || trimmed.find_first_of(" \t\r\n<>") != std::string_view::npos) {
        return std::nullopt;
    }
    return util::to_lower(trimmed);
}

void load_access_rule(Context& ctx, const YAML::Node& n, std::size_t index,
                      std::vector<AccessRule>& rules) {
    const std::string path = fmt::format("access_list[{}]", index);
    AccessRule rule;
    rule.name = path;
    rule.where = ctx.position(n.Mark());
    Section s(ctx, n, path);
    if (!n.IsMap()) {
        return;
    }
    read_string(s, "name", rule.name);
    int fields = 0;
    auto pattern_field = [&](std::string_view key, AccessField field) {
        std::vector<std::string> values;
        std::vector<YAML::Mark> marks;
        read_string_list(s, key, values, &marks);
        if (!marks.empty() || n[std::string(key)].IsDefined()) {
            ++fields;
            rule.field = field;
            if (values.empty()) {
                ctx.error(n[std::string(key)].Mark(),
                          fmt::format("'{}.{}' lists no patterns", path, key));
            }
        }
        for (std::size_t i = 0; i < values.size(); ++i) {
            auto p = address_pattern(values[i]);
            if (!p) {
                ctx.error(marks[i], fmt::format("'{}.{}': bad pattern '{}'", path, key, values[i]));
            } else {
                rule.patterns.push_back(*p);
            }
        }
    };
    pattern_field("sender", AccessField::Sender);
    pattern_field("recipient", AccessField::Recipient);
    pattern_field("helo", AccessField::Helo);
    s.field("client", [&](const YAML::Node& c) {
        ++fields;
        rule.field = AccessField::Client;
        if (c.IsNull() || (c.IsSequence() && c.size() == 0)) {
            ctx.error(c.Mark(), fmt::format("'{}.client' lists no networks", path));
        }
    });
    if (n["client"].IsDefined()) {
        read_cidrs(s, "client", rule.networks);
    }
    if (fields != 1) {
        ctx.error(n.Mark(), fmt::format("'{}' must have exactly one of sender, recipient, "
                                        "client, helo (has {})",
                                        path, fields));
    }
    bool action_given = false;
    s.field("action", [&](const YAML::Node& a) {
        action_given = true;
        std::string text;
        if (!scalar(ctx, a, path + ".action", text)) {
            return;
        }
        const auto action = policy::parse_action(text);
        if (!action || *action == policy::Action::Continue) {
            ctx.error(a.Mark(), fmt::format("'{}.action' must be one of allow, reject, tempfail, "
                                            "quarantine, discard, not '{}'",
                                            path, text));
            return;
        }
        rule.action = *action;
    });
    if (!action_given) {
        ctx.error(n.Mark(), fmt::format("'{}' needs an action", path));
    }
    read_int(s, "code", rule.code, 400, 599);
    s.field("enhanced", [&](const YAML::Node& e) {
        std::string text;
        if (scalar(ctx, e, path + ".enhanced", text)) {
            if (!smtp::parse_enhanced_status(text)) {
                ctx.error(e.Mark(), fmt::format("'{}.enhanced' is not an RFC 3463 status code: "
                                                "'{}'",
                                                path, text));
            }
            rule.enhanced = text;
        }
    });
    read_string(s, "reply", rule.reply);
    read_bool(s, "final", rule.final);
    s.field("mode", [&](const YAML::Node& m) {
        std::string text;
        if (scalar(ctx, m, path + ".mode", text)) {
            if (text == "warn") {
                rule.warn_only = true;
            } else if (text != "enforce") {
                ctx.error(m.Mark(),
                          fmt::format("'{}.mode' must be enforce or warn, not '{}'", path, text));
            }
        }
    });
    if (rule.final && rule.action != policy::Action::Accept) {
        ctx.error(n["final"].Mark(), fmt::format("'{}.final' only applies to action allow", path));
    }
    // A reply code must agree with the action (RFC 5321 §4.2.1: 4yz transient, 5yz permanent).
    if (rule.code != 0) {
        const bool transient = rule.code < 500;
        if ((rule.action == policy::Action::Reject && transient) ||
            (rule.action == policy::Action::Tempfail && !transient) ||
            !policy::is_refusal(rule.action)) {
            ctx.error(n["code"].Mark(), fmt::format("'{}.code' {} does not fit action {}", path,
                                                    rule.code, policy::to_string(rule.action)));
        }
    }
    if (!rule.enhanced.empty() && rule.code != 0 && rule.enhanced[0] - '0' != rule.code / 100) {
        ctx.error(n["enhanced"].Mark(), fmt::format("'{}.enhanced' {} does not match code {}", path,
                                                    rule.enhanced, rule.code));
    }
    rules.push_back(std::move(rule));
}

void load_control(Section& root, ControlConfig& control) {
    root.field("control", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "control");
        read_bool(s, "enabled", control.enabled);
        s.field("listen", [&](const YAML::Node& l) {
            std::string text;
            if (!scalar(s.ctx(), l, "control.listen", text)) {
                return;
            }
            const auto colon = text.rfind(':');
            int port = 0;
            const char* begin = text.data() + (colon == std::string::npos ? 0 : colon + 1);
            const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), port);
            if (colon == std::string::npos || colon == 0 || ec != std::errc{} ||
                end != text.data() + text.size() || port <= 0 || port > 65535) {
                s.ctx().error(l.Mark(), fmt::format("'control.listen' must be HOST:PORT, not "
                                                    "'{}'",
                                                    text));
                return;
            }
            std::string host = text.substr(0, colon);
            if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
                host = host.substr(1, host.size() - 2);
            }
            control.host = host;
            control.port = port;
        });
    });
}

void load_dns(Section& root, DnsConfig& dns) {
    root.field("dns", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "dns");
        read_duration(s, "timeout", dns.timeout, milliseconds{10}, milliseconds{60'000});
        std::vector<YAML::Mark> marks;
        read_string_list(s, "forwarders", dns.forwarders, &marks);
        for (std::size_t i = 0; i < dns.forwarders.size(); ++i) {
            const auto& f = dns.forwarders[i];
            const auto at = f.find('@');
            const bool ok = util::IpAddress::parse(f.substr(0, at)).has_value() &&
                            (at == std::string::npos ||
                             (at + 1 < f.size() &&
                              f.find_first_not_of("0123456789", at + 1) == std::string::npos));
            if (!ok) {
                s.ctx().error(marks[i], fmt::format("'dns.forwarders': '{}' is not IP or "
                                                    "IP@PORT",
                                                    f));
            }
        }
        read_string(s, "resolv_conf", dns.resolv_conf);
        read_string(s, "trust_anchor", dns.trust_anchor);
        read_string(s, "zone_file", dns.zone_file);
    });
}

void load_spf(Section& root, SpfConfig& spf) {
    root.field("spf", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "spf");
        read_bool(s, "enabled", spf.enabled);
        read_bool(s, "check_outbound", spf.check_outbound);
        read_bool(s, "check_helo", spf.check_helo);
        read_duration(s, "result_cache_ttl", spf.result_cache_ttl, milliseconds{0},
                      milliseconds{86'400'000});
        read_int(s, "result_cache_max_entries", spf.result_cache_max_entries, 0, 10'000'000);
        read_duration(s, "time_limit", spf.time_limit, milliseconds{100}, milliseconds{120'000});
        read_bool(s, "defer_fail_to_dmarc", spf.defer_fail_to_dmarc);
        read_bool(s, "add_received_spf_header", spf.add_received_spf_header);
        read_string(s, "authserv_id", spf.authserv_id);
        read_enum(s, "mode", spf.warn_only, {{"enforce", false}, {"warn", true}});
        s.field("actions", [&](const YAML::Node& a) {
            Section as(s.ctx(), a, "spf.actions");
            for (const char* result :
                 {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}) {
                as.field(result, [&](const YAML::Node& v) {
                    std::string text;
                    if (!scalar(s.ctx(), v, as.child(result), text)) {
                        return;
                    }
                    const auto action = policy::parse_action(text);
                    if (!action || *action == policy::Action::Accept) {
                        s.ctx().error(v.Mark(), fmt::format("'spf.actions.{}' must be one of "
                                                            "continue, reject, tempfail, "
                                                            "quarantine, discard, not '{}'",
                                                            result, text));
                        return;
                    }
                    spf.actions[result] = *action;
                });
            }
        });
    });
}

void load_dkim(Section& root, DkimConfig& dkim) {
    root.field("dkim", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "dkim");
        read_bool(s, "enabled", dkim.enabled);
        read_bool(s, "check_outbound", dkim.check_outbound);
        read_int(s, "max_signatures", dkim.max_signatures, 1, 100);
        read_int(s, "min_rsa_bits", dkim.min_rsa_bits, 512, 4096);
        read_bool(s, "allow_rsa_sha1", dkim.allow_rsa_sha1);
    });
}

void load_dmarc(Section& root, DmarcConfig& dmarc) {
    root.field("dmarc", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "dmarc");
        read_bool(s, "enabled", dmarc.enabled);
        read_bool(s, "check_outbound", dmarc.check_outbound);
        read_enum(s, "org_domain", dmarc.org_domain_method,
                  {{"tree-walk", std::string("tree-walk")}, {"psl", std::string("psl")}});
        read_string(s, "psl_file", dmarc.psl_file);
        const std::initializer_list<std::pair<std::string_view, DmarcAction>> actions = {
            {"none", DmarcAction::None},
            {"tag", DmarcAction::Tag},
            {"quarantine", DmarcAction::Quarantine},
            {"reject", DmarcAction::Reject}};
        read_enum(s, "on_reject", dmarc.on_reject, actions);
        read_enum(s, "on_quarantine", dmarc.on_quarantine, actions);
        read_enum(s, "on_temperror", dmarc.on_temperror,
                  {{"continue", policy::Action::Continue}, {"tempfail", policy::Action::Tempfail}});
        read_enum(s, "mode", dmarc.warn_only, {{"enforce", false}, {"warn", true}});
    });
}

void load_auth_results(Section& root, AuthResultsConfig& ar) {
    root.field("authentication_results", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "authentication_results");
        read_bool(s, "enabled", ar.enabled);
        read_string(s, "authserv_id", ar.authserv_id);
        read_bool(s, "remove_forged", ar.remove_forged);
    });
}

void load_preflight(Section& root, PreflightConfig& preflight) {
    root.field("preflight", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "preflight");
        read_bool(s, "enabled", preflight.enabled);
        read_enum(s, "action", preflight.action,
                  {{"warn", PreflightAction::Warn},
                   {"header", PreflightAction::Header},
                   {"reject", PreflightAction::Reject}});
        read_string(s, "header_name", preflight.header_name);
    });
}

void load_bounce(Section& root, BounceConfig& bounce) {
    root.field("bounce", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "bounce");
        read_bool(s, "enabled", bounce.enabled);
        read_bool(s, "rewrite", bounce.rewrite);
        read_size(s, "max_bytes", bounce.max_bytes, 4096);
        read_string(s, "catalog", bounce.catalog);
        read_string(s, "header_name", bounce.header_name);
        if (bounce.header_name.empty()) {
            s.ctx().error(n.Mark(), "'bounce.header_name' must not be empty");
        }
    });
}

void load_ratelimit(Section& root, RateLimitConfig& rl) {
    root.field("ratelimit", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "ratelimit");
        read_duration(s, "fallback_retry", rl.fallback_retry, milliseconds{10},
                      milliseconds{600'000});
        read_int(s, "local_max_buckets", rl.local_max_buckets, 1000, 100'000'000);
        read_duration(s, "override_refresh", rl.override_refresh, milliseconds{100},
                      milliseconds{3'600'000});
        s.field("rules", [&](const YAML::Node& list) {
            if (!list.IsSequence()) {
                s.ctx().error(list.Mark(), "'ratelimit.rules' must be a list of rules");
                return;
            }
            for (std::size_t i = 0; i < list.size(); ++i) {
                const std::string path = fmt::format("ratelimit.rules[{}]", i);
                RateRuleConfig rule;
                rule.where = s.ctx().position(list[i].Mark());
                Section r(s.ctx(), list[i], path);
                read_string(r, "name", rule.name);
                if (rule.name.empty() && list[i].IsMap()) {
                    s.ctx().error(list[i].Mark(), fmt::format("'{}' needs a name", path));
                }
                read_string(r, "key", rule.key);
                read_string(r, "counts", rule.counts);
                read_string_list(r, "limits", rule.limits);
                if (rule.limits.empty() && list[i].IsMap()) {
                    s.ctx().error(list[i].Mark(),
                                  fmt::format("'{}' needs limits, e.g. [\"30/1m\"]", path));
                }
                read_string(r, "scope", rule.scope);
                read_string(r, "action", rule.action);
                r.field("exempt", [&](const YAML::Node& e) {
                    Section es(s.ctx(), e, path + ".exempt");
                    read_string_list(es, "logins", rule.exempt_logins);
                    read_cidrs(es, "networks", rule.exempt_networks);
                });
                r.field("overrides", [&](const YAML::Node& o) {
                    if (!o.IsMap()) {
                        s.ctx().error(o.Mark(), fmt::format("'{}.overrides' must map logins to "
                                                            "limits",
                                                            path));
                        return;
                    }
                    for (const auto& item : o) {
                        std::vector<std::string> limits;
                        const auto login = item.first.as<std::string>("");
                        if (item.second.IsSequence()) {
                            for (const auto& l : item.second) {
                                std::string text;
                                if (scalar(s.ctx(), l, path + ".overrides", text)) {
                                    limits.push_back(text);
                                }
                            }
                        } else {
                            std::string text;
                            if (scalar(s.ctx(), item.second, path + ".overrides", text)) {
                                limits.push_back(text);
                            }
                        }
                        rule.overrides[util::to_lower(login)] = limits;
                    }
                });
                rl.rules.push_back(std::move(rule));
            }
        });
    });
}

void load_account_signal(Section& s, std::string_view name, AccountSignalConfig& signal) {
    s.field(name, [&](const YAML::Node& n) {
        Section sig(s.ctx(), n, s.child(name));
        read_int(sig, "min", signal.min, 0, 1'000'000'000);
        read_int(sig, "multiple", signal.multiple, 1, 1'000'000);
        read_int(sig, "floor", signal.floor, 0, 1'000'000'000);
        read_int(sig, "percent", signal.percent, 0, 100);
        read_int(sig, "points", signal.points, 0, 100);
    });
}

void load_accounts(Section& root, AccountsConfig& a) {
    root.field("accounts", [&](const YAML::Node& n) {
        Section s(root.ctx(), n, "accounts");
        read_bool(s, "enabled", a.enabled);
        read_enum(
            s, "action", a.action,
            {{"quarantine", std::string("quarantine")}, {"tempfail", std::string("tempfail")}});
        read_duration(s, "half_life", a.half_life, milliseconds{3'600'000},
                      milliseconds{365LL * 86'400'000});
        read_duration(s, "release_grace", a.release_grace, milliseconds{0},
                      milliseconds{30LL * 86'400'000});
        read_duration(s, "idle_ttl", a.idle_ttl, milliseconds{86'400'000},
                      milliseconds{365LL * 86'400'000});
        read_duration(s, "sender_ttl", a.sender_ttl, milliseconds{86'400'000},
                      milliseconds{365LL * 86'400'000});
        s.field("window", [&](const YAML::Node& w) {
            std::string text;
            if (!scalar(s.ctx(), w, "accounts.window", text)) {
                return;
            }
            auto d = parse_duration(text);
            if (!d || d->count() < 60'000 || d->count() > 86'400'000 ||
                86'400'000 % d->count() != 0) {
                s.ctx().error(w.Mark(), fmt::format("'accounts.window' must be a duration of 1m "
                                                    "to 1d that divides a day, not '{}'",
                                                    text));
                return;
            }
            a.window = *d;
        });
        read_int(s, "known_domains", a.known_domains, 1, 100'000);
        read_int(s, "tracked_client_ips", a.tracked_client_ips, 1, 100'000);
        read_int(s, "local_max_accounts", a.local_max_accounts, 100, 100'000'000);
        read_int(s, "hold_score", a.hold_score, 1, 100);
        s.field("signals", [&](const YAML::Node& sn) {
            Section sig(s.ctx(), sn, "accounts.signals");
            load_account_signal(sig, "volume", a.volume);
            load_account_signal(sig, "client_ips", a.client_ips);
            load_account_signal(sig, "client_networks", a.client_networks);
            load_account_signal(sig, "new_domains", a.new_domains);
            load_account_signal(sig, "refused_recipients", a.refused_recipients);
            load_account_signal(sig, "bounces", a.bounces);
            load_account_signal(sig, "new_from_domains", a.new_from_domains);
        });
        read_string_list(s, "exempt_logins", a.exempt_logins);
        for (auto& login : a.exempt_logins) {
            login = util::to_lower(login);
        }
    });
}

Config load_root(Context& ctx, const YAML::Node& doc) {
    Config config;
    Section root(ctx, doc, "");
    root.field("listen", [&](const YAML::Node& n) {
        std::string text;
        if (scalar(ctx, n, "listen", text)) {
            auto normalized = normalize_listen(text);
            if (!normalized) {
                ctx.error(n.Mark(), "'listen': " + normalized.error().message);
            } else {
                config.listen = *normalized;
            }
        }
    });
    load_socket(root, config.socket);
    read_string(root, "user", config.user);
    read_string(root, "group", config.group);
    read_string(root, "hostname", config.hostname);
    read_duration(root, "shutdown_timeout", config.shutdown_timeout, milliseconds{0},
                  milliseconds{3'600'000});
    read_duration(root, "milter_timeout", config.milter_timeout, milliseconds{1000},
                  milliseconds{3'600'000});
    read_enum(root, "milter_engine", config.milter_engine,
              {{"libmilter", MilterEngine::Libmilter}, {"native", MilterEngine::Native}});
    read_enum(root, "on_internal_error", config.on_internal_error,
              {{"accept", policy::Action::Accept}, {"tempfail", policy::Action::Tempfail}});
    load_log(root, config.log);
    load_store(root, config.store);
    load_events(root, config.events);
    read_cidrs(root, "trusted_networks", config.trusted_networks);
    read_cidrs(root, "outbound_ips", config.outbound_ips);
    read_string_list(root, "dkim_signing_domains", config.dkim_signing_domains);
    for (std::string& domain : config.dkim_signing_domains) {
        domain = util::to_lower(domain);
        if (domain.ends_with('.')) {
            domain.pop_back();
        }
    }
    load_headers(root, config.headers);
    load_control(root, config.control);
    load_dns(root, config.dns);
    load_spf(root, config.spf);
    load_dkim(root, config.dkim);
    load_dmarc(root, config.dmarc);
    load_auth_results(root, config.authentication_results);
    load_preflight(root, config.preflight);
    load_ratelimit(root, config.ratelimit);
    load_accounts(root, config.accounts);
    load_bounce(root, config.bounce);
    root.field("access_list", [&](const YAML::Node& n) {
        if (n.IsNull()) {
            return;
        }
        if (!n.IsSequence()) {
            ctx.error(n.Mark(),
                      fmt::format("'access_list' must be a list of rules, not {}", kind_of(n)));
            return;
        }
        for (std::size_t i = 0; i < n.size(); ++i) {
            load_access_rule(ctx, n[i], i, config.access_list);
        }
    });
    return config;
}

}  // namespace

util::Result<std::string> normalize_listen(std::string_view spec) {
    spec = util::trim(spec);
    if (spec.find_first_of(" \t\r\n") != std::string_view::npos) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("'{}': a socket has no spaces", spec));
    }
    const auto colon = spec.find(':');
    if (colon == std::string_view::npos) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("'{}' is not a socket (inet:PORT@HOST, inet:HOST:PORT, "
                                      "inet6:PORT@HOST, unix:/path)",
                                      spec));
    }
    const auto scheme = util::to_lower(spec.substr(0, colon));
    const auto rest = spec.substr(colon + 1);
    auto valid_port = [](std::string_view p) {
        int port = 0;
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
        return ec == std::errc{} && end == p.data() + p.size() && port > 0 && port < 65536;
    };
    if (scheme == "unix" || scheme == "local") {
        if (rest.empty() || rest.front() != '/') {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("'{}': a unix socket needs an absolute path", spec));
        }
        return "unix:" + std::string(rest);
    }
    if (scheme != "inet" && scheme != "inet6") {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("'{}': unknown socket type '{}'", spec, scheme));
    }
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        if (!valid_port(rest.substr(0, at)) || at + 1 >= rest.size()) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("'{}': expected {}:PORT@HOST", spec, scheme));
        }
        return scheme + ":" + std::string(rest);
    }
    if (valid_port(rest)) {  // "inet:8891": all interfaces, as libmilter reads it
        return scheme + ":" + std::string(rest);
    }
    // Postfix form inet:HOST:PORT (HOST may be [v6]).
    const auto last = rest.rfind(':');
    if (last == std::string_view::npos || !valid_port(rest.substr(last + 1))) {
        return util::fail(
            util::ErrorCode::InvalidInput,
            fmt::format("'{}': expected {}:PORT@HOST or {}:HOST:PORT", spec, scheme, scheme));
    }
    std::string host(rest.substr(0, last));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string family = host.find(':') != std::string::npos ? "inet6" : scheme;
    return fmt::format("{}:{}@{}", family, rest.substr(last + 1), host);
}

LoadResult load_string(std::string_view yaml, std::string_view name) {
    Context ctx{std::string(name)};
    Config config;
    try {
        const YAML::Node doc = YAML::Load(std::string(yaml));
        config = load_root(ctx, doc);
    } catch (const YAML::Exception& e) {
        ctx.error(e.mark, e.msg);
    }
    if (!ctx.errors().empty()) {
        return std::unexpected(std::move(ctx.errors()));
    }
    config.source = std::string(name);
    return config;
}

LoadResult load_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::unexpected(std::vector<util::Error>{util::Error{
            util::ErrorCode::Config,
            fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)), std::nullopt}});
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_string(text.str(), path.string());
}

std::string describe(const std::vector<util::Error>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += e.describe();
        out += '\n';
    }
    return out;
}

}  // namespace mailwarden::config
