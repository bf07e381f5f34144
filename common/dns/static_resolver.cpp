// static_resolver.cpp - the in-memory zone; see static_resolver.hpp for its semantics.
#include "dns/static_resolver.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/ascii.hpp"

namespace mailwarden::dns {

namespace {

constexpr std::size_t kMaxZoneFileBytes = 16 * 1024 * 1024;

util::Result<RecordType> parse_type(std::string_view text) {
    const std::string upper = [&] {
        std::string s(text);
        for (char& c : s) {
            if (c >= 'a' && c <= 'z') {
                c = static_cast<char>(c - 'a' + 'A');
            }
        }
        return s;
    }();
    if (upper == "A")
        return RecordType::A;
    if (upper == "AAAA")
        return RecordType::Aaaa;
    if (upper == "TXT")
        return RecordType::Txt;
    if (upper == "SPF")
        return RecordType::Spf;
    if (upper == "MX")
        return RecordType::Mx;
    if (upper == "PTR")
        return RecordType::Ptr;
    if (upper == "CNAME")
        return RecordType::Cname;
    return util::fail(util::ErrorCode::InvalidInput, fmt::format("unknown record type '{}'", text));
}

std::optional<Rcode> parse_marker(std::string_view text) {
    if (util::iequals(text, "TIMEOUT"))
        return Rcode::Timeout;
    if (util::iequals(text, "SERVFAIL"))
        return Rcode::ServFail;
    if (util::iequals(text, "REFUSED"))
        return Rcode::Refused;
    return std::nullopt;
}

util::Error with_mark(util::Error error, const YAML::Mark& mark) {
    if (!mark.is_null()) {
        error.where = util::SourcePosition{"zone", mark.line + 1, mark.column + 1};
    }
    return error;
}

}  // namespace

std::string_view to_string(RecordType type) {
    switch (type) {
        case RecordType::A:
            return "A";
        case RecordType::Aaaa:
            return "AAAA";
        case RecordType::Txt:
            return "TXT";
        case RecordType::Spf:
            return "SPF";
        case RecordType::Mx:
            return "MX";
        case RecordType::Ptr:
            return "PTR";
        case RecordType::Cname:
            return "CNAME";
    }
    return "?";
}

util::Result<void> StaticResolver::load(const YAML::Node& zonedata) {
    try {
        if (!zonedata.IsDefined() || zonedata.IsNull()) {
            return {};
        }
        if (!zonedata.IsMap()) {
            return std::unexpected(with_mark(
                util::Error{util::ErrorCode::InvalidInput, "zone is not a map of names", {}},
                zonedata.Mark()));
        }
        for (const auto& entry : zonedata) {
            const auto name = entry.first.as<std::string>();
            const YAML::Node& items = entry.second;
            if (!items.IsSequence()) {
                return std::unexpected(
                    with_mark(util::Error{util::ErrorCode::InvalidInput,
                                          fmt::format("'{}': expected a list of records", name),
                                          {}},
                              items.Mark()));
            }
            if (items.size() == 0) {
                add_item(name, Item{.type = RecordType::Txt, .is_none = true});
                continue;
            }
            for (const auto& rr : items) {
                auto bad = [&](std::string why) {
                    return std::unexpected(with_mark(
                        util::Error{
                            util::ErrorCode::InvalidInput, fmt::format("'{}': {}", name, why), {}},
                        rr.Mark()));
                };
                if (rr.IsScalar()) {
                    const auto marker = parse_marker(rr.Scalar());
                    if (!marker) {
                        return bad(fmt::format("unknown marker '{}'", rr.Scalar()));
                    }
                    add_failure(name, *marker);
                    continue;
                }
                if (!rr.IsMap() || rr.size() != 1) {
                    return bad("a record must be a one-key map {TYPE: value}");
                }
                const auto kv = *rr.begin();
                auto type = parse_type(kv.first.as<std::string>());
                if (!type) {
                    return bad(type.error().message);
                }
                const YAML::Node& value = kv.second;
                Item item{.type = *type};
                switch (*type) {
                    case RecordType::A:
                    case RecordType::Aaaa: {
                        auto ip = util::IpAddress::parse(value.as<std::string>());
                        if (!ip || ip->is_v4() != (*type == RecordType::A)) {
                            return bad(fmt::format("bad {} address '{}'", to_string(*type),
                                                   value.as<std::string>()));
                        }
                        item.address = *ip;
                        break;
                    }
                    case RecordType::Txt:
                    case RecordType::Spf:
                        if (value.IsSequence()) {
                            for (const auto& s : value) {
                                item.strings.push_back(s.IsNull() ? "" : s.as<std::string>());
                            }
                        } else if (value.IsNull()) {
                            item.strings.emplace_back();
                        } else if (*type == RecordType::Txt && value.as<std::string>() == "NONE") {
                            item.is_none = true;
                        } else {
                            item.strings.push_back(value.as<std::string>());
                        }
                        break;
                    case RecordType::Mx:
                        if (!value.IsSequence() || value.size() != 2) {
                            return bad("MX must be [preference, exchange]");
                        }
                        item.preference = value[0].as<std::uint16_t>();
                        item.target = normalize_name(value[1].as<std::string>());
                        break;
                    case RecordType::Ptr:
                    case RecordType::Cname:
                        item.target = normalize_name(value.as<std::string>());
                        break;
                }
                add_item(name, std::move(item));
            }
        }
    } catch (const YAML::Exception& e) {
        return std::unexpected(with_mark(
            util::Error{util::ErrorCode::InvalidInput, fmt::format("zone: {}", e.msg), {}},
            e.mark));
    }
    return {};
}

util::Result<void> StaticResolver::load_text(std::string_view yaml) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        return std::unexpected(with_mark(
            util::Error{util::ErrorCode::InvalidInput, fmt::format("zone: {}", e.msg), {}},
            e.mark));
    }
    if (root.IsMap() && root["zonedata"]) {
        return load(root["zonedata"]);
    }
    return load(root);
}

util::Result<void> StaticResolver::load_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        return util::fail(util::ErrorCode::NotFound,
                          fmt::format("{}: cannot read zone: {}", path.string(), ec.message()));
    }
    if (size > kMaxZoneFileBytes) {
        return util::fail(
            util::ErrorCode::InvalidInput,
            fmt::format("{}: zone file larger than {} bytes", path.string(), kMaxZoneFileBytes));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return util::fail(util::ErrorCode::NotFound,
                          fmt::format("{}: cannot open zone file", path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto loaded = load_text(text.str());
    if (!loaded) {
        auto error = loaded.error();
        if (error.where) {
            error.where->file = path.string();
        } else {
            error.where = util::SourcePosition{path.string(), 0, 0};
        }
        return std::unexpected(std::move(error));
    }
    return {};
}

void StaticResolver::add_item(std::string_view name, Item item) {
    const std::string key = normalize_name(name);
    std::lock_guard lock(mutex_);
    auto& node = zone_[key];
    if (item.type == RecordType::Txt && !item.is_failure) {
        node.explicit_txt = true;
    }
    node.items.push_back(std::move(item));
    for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
        ancestors_.insert(key.substr(dot + 1));
    }
}

void StaticResolver::add_a(std::string_view name, const util::IpAddress& address) {
    add_item(name, Item{.type = RecordType::A, .address = address});
}
void StaticResolver::add_aaaa(std::string_view name, const util::IpAddress& address) {
    add_item(name, Item{.type = RecordType::Aaaa, .address = address});
}
void StaticResolver::add_txt(std::string_view name, std::vector<std::string> strings) {
    add_item(name, Item{.type = RecordType::Txt, .strings = std::move(strings)});
}
void StaticResolver::add_txt(std::string_view name, std::string text) {
    add_txt(name, std::vector<std::string>{std::move(text)});
}
void StaticResolver::add_mx(std::string_view name, std::uint16_t preference,
                            std::string_view exchange) {
    add_item(
        name,
        Item{.type = RecordType::Mx, .target = normalize_name(exchange), .preference = preference});
}
void StaticResolver::add_ptr(std::string_view reverse, std::string_view target) {
    add_item(reverse, Item{.type = RecordType::Ptr, .target = normalize_name(target)});
}
void StaticResolver::add_cname(std::string_view name, std::string_view target) {
    add_item(name, Item{.type = RecordType::Cname, .target = normalize_name(target)});
}
void StaticResolver::add_failure(std::string_view name, Rcode rcode) {
    add_item(name, Item{.is_failure = true, .failure = rcode});
}

void StaticResolver::set_ttl(std::chrono::seconds ttl) {
    std::lock_guard lock(mutex_);
    ttl_ = ttl;
}

StaticResolver::Found StaticResolver::find(RecordType type, std::string_view name) {
    std::string key = normalize_name(name);
    for (int hops = 0; hops <= kMaxCnameChain; ++hops) {
        const auto it = zone_.find(key);
        if (it == zone_.end()) {
            return Found{ancestors_.contains(key) ? Rcode::NoData : Rcode::NxDomain, {}};
        }
        const Node& node = it->second;
        Found found;
        const Item* cname = nullptr;
        for (const Item& item : node.items) {
            if (item.is_failure) {
                if (found.items.empty() && cname == nullptr) {
                    return Found{item.failure, {}};
                }
                break;
            }
            if (item.is_none) {
                continue;
            }
            if (item.type == type ||
                (type == RecordType::Txt && item.type == RecordType::Spf && !node.explicit_txt)) {
                found.items.push_back(&item);
            } else if (item.type == RecordType::Cname && cname == nullptr) {
                cname = &item;
            }
        }
        if (!found.items.empty()) {
            found.rcode = Rcode::NoError;
            return found;
        }
        if (cname == nullptr) {
            return Found{Rcode::NoData, {}};
        }
        key = cname->target;  // RFC 1034 §3.6.2: follow the alias
    }
    return Found{Rcode::ServFail, {}};  // a CNAME loop or an over-long chain
}

template <class T, class Convert>
Answer<T> StaticResolver::query(RecordType type, std::string_view name, Convert convert) {
    std::lock_guard lock(mutex_);
    log_.push_back(LoggedQuery{type, normalize_name(name)});
    const Found found = find(type, name);
    Answer<T> answer;
    answer.rcode = found.rcode;
    answer.ttl = ttl_;
    for (const Item* item : found.items) {
        answer.records.push_back(convert(*item));
    }
    return answer;
}

Answer<TxtRecord> StaticResolver::txt(std::string_view name) {
    return query<TxtRecord>(RecordType::Txt, name,
                            [](const Item& item) { return TxtRecord{item.strings}; });
}

Answer<util::IpAddress> StaticResolver::a(std::string_view name) {
    return query<util::IpAddress>(RecordType::A, name,
                                  [](const Item& item) { return item.address; });
}

Answer<util::IpAddress> StaticResolver::aaaa(std::string_view name) {
    return query<util::IpAddress>(RecordType::Aaaa, name,
                                  [](const Item& item) { return item.address; });
}

Answer<MxRecord> StaticResolver::mx(std::string_view name) {
    return query<MxRecord>(RecordType::Mx, name, [](const Item& item) {
        return MxRecord{item.preference, item.target};
    });
}

Answer<std::string> StaticResolver::ptr(const util::IpAddress& address) {
    return query<std::string>(RecordType::Ptr, reverse_name(address),
                              [](const Item& item) { return item.target; });
}

std::vector<LoggedQuery> StaticResolver::queries() const {
    std::lock_guard lock(mutex_);
    return log_;
}

std::size_t StaticResolver::query_count() const {
    std::lock_guard lock(mutex_);
    return log_.size();
}

void StaticResolver::clear_log() {
    std::lock_guard lock(mutex_);
    log_.clear();
}

}  // namespace mailwarden::dns
