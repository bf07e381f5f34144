// catalog_loader.cpp - reads conf/explanations.yaml into a Catalog.
//
// The only place the explain module touches yaml-cpp. yaml-cpp throws; every exception is
// caught here and turned into a Config error carrying the file, line and column (1-based)
// of the node at fault. Unknown keys are errors too, so a typo never silently drops text.
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "explain/catalog.hpp"
#include "util/ascii.hpp"

namespace mailwarden::explain {

namespace {

constexpr int kCatalogVersion = 1;

// Thrown only inside this file, caught in load_string.
struct LoadError {
    std::string message;
    YAML::Mark mark;
};

[[noreturn]] void fail_at(const YAML::Node& node, std::string message) {
    throw LoadError{std::move(message), node.Mark()};
}

std::string scalar(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
        fail_at(node, fmt::format("{} must be a string", what));
    }
    return node.as<std::string>();
}

bool boolean(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
        fail_at(node, fmt::format("{} must be true or false", what));
    }
    bool value = false;
    if (!YAML::convert<bool>::decode(node, value)) {
        fail_at(node, fmt::format("{} must be true or false", what));
    }
    return value;
}

std::vector<std::string> strings(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        out.push_back(node.as<std::string>());
        return out;
    }
    if (!node.IsSequence()) {
        fail_at(node, fmt::format("{} must be a string or a list of strings", what));
    }
    for (const YAML::Node& item : node) {
        out.push_back(scalar(item, what));
    }
    return out;
}

void check_keys(const YAML::Node& map, const std::set<std::string, std::less<>>& allowed,
                std::string_view what) {
    for (const auto& item : map) {
        const std::string key = item.first.as<std::string>();
        if (!allowed.contains(key)) {
            fail_at(item.first, fmt::format("unknown key '{}' in {}", key, what));
        }
    }
}

Texts read_texts(const YAML::Node& node) {
    Texts texts;
    if (node["summary"]) {
        texts.summary = scalar(node["summary"], "summary");
    }
    if (node["sender"]) {
        texts.sender = scalar(node["sender"], "sender");
    }
    if (node["admin"]) {
        texts.admin = scalar(node["admin"], "admin");
    }
    for (std::string* text : {&texts.summary, &texts.sender, &texts.admin}) {
        while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) {
            text->pop_back();
        }
    }
    return texts;
}

util::SourcePosition position(const std::string& file, const YAML::Mark& mark) {
    return util::SourcePosition{file, mark.line + 1, mark.column + 1};
}

Entry read_entry(const YAML::Node& node, const std::string& file) {
    if (!node.IsMap()) {
        fail_at(node, "an entry must be a mapping");
    }
    check_keys(node,
               {"id", "category", "status", "reply", "match", "examples", "weak", "generic",
                "stage_dependent", "hosts", "permanent", "summary", "sender", "admin"},
               "entry");
    Entry entry;
    entry.where = position(file, node.Mark());
    if (!node["id"]) {
        fail_at(node, "entry without an id");
    }
    entry.id = scalar(node["id"], "id");
    if (!node["category"]) {
        fail_at(node, fmt::format("entry '{}' has no category", entry.id));
    }
    const std::string category = scalar(node["category"], "category");
    const auto parsed = parse_category(category);
    if (!parsed) {
        fail_at(node["category"],
                fmt::format("entry '{}': unknown category '{}'", entry.id, category));
    }
    entry.category = *parsed;
    if (node["status"]) {
        entry.status = scalar(node["status"], "status");
    }
    if (node["reply"]) {
        int code = 0;
        if (!node["reply"].IsScalar() || !YAML::convert<int>::decode(node["reply"], code)) {
            fail_at(node["reply"], "reply must be a three-digit code");
        }
        entry.reply_code = code;
    }
    if (node["match"]) {
        entry.patterns = strings(node["match"], "match");
        // Report a bad regex at its own line, not at the entry's.
        const YAML::Node match = node["match"];
        for (std::size_t i = 0; i < entry.patterns.size(); ++i) {
            if (auto checked = PatternSet::check(entry.patterns[i]); !checked) {
                fail_at(match.IsSequence() ? match[i] : match,
                        fmt::format("entry '{}': {}", entry.id, checked.error().message));
            }
        }
    }
    if (node["examples"]) {
        entry.examples = strings(node["examples"], "examples");
    }
    if (node["weak"]) {
        entry.weak = boolean(node["weak"], "weak");
    }
    if (node["generic"]) {
        entry.generic = boolean(node["generic"], "generic");
    }
    if (node["stage_dependent"]) {
        entry.stage_dependent = boolean(node["stage_dependent"], "stage_dependent");
    }
    if (node["hosts"]) {
        entry.hosts = strings(node["hosts"], "hosts");
        for (std::string& host : entry.hosts) {
            host = util::to_lower(host);
            const bool valid = !host.empty() && host.front() != '.' && host.back() != '.' &&
                               host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") ==
                                   std::string::npos;
            if (!valid) {
                fail_at(node["hosts"],
                        fmt::format("entry '{}': '{}' is not a domain name", entry.id, host));
            }
        }
    }
    if (node["permanent"]) {
        entry.permanent = boolean(node["permanent"], "permanent");
    }
    entry.texts = read_texts(node);
    return entry;
}

}  // namespace

util::Result<Catalog> Catalog::load_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return util::fail(util::ErrorCode::NotFound,
                          fmt::format("cannot read catalog {}", path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_string(text.str(), path.string());
}

util::Result<Catalog> Catalog::load_string(std::string_view yaml, std::string name) {
    std::vector<Entry> entries;
    std::vector<Texts> category_texts(all_categories().size());
    try {
        const YAML::Node root = YAML::Load(std::string(yaml));
        if (!root.IsMap()) {
            fail_at(root, "the catalog must be a mapping with 'version', 'categories', 'entries'");
        }
        check_keys(root, {"version", "categories", "entries"}, "the catalog");
        if (!root["version"] || root["version"].as<int>() != kCatalogVersion) {
            fail_at(root, fmt::format("catalog version must be {}", kCatalogVersion));
        }
        const YAML::Node categories = root["categories"];
        if (!categories || !categories.IsMap()) {
            fail_at(root, "'categories' must map each category to its texts");
        }
        std::vector<bool> seen(category_texts.size(), false);
        for (const auto& item : categories) {
            const std::string key = item.first.as<std::string>();
            const auto category = parse_category(key);
            if (!category) {
                fail_at(item.first, fmt::format("unknown category '{}'", key));
            }
            check_keys(item.second, {"summary", "sender", "admin"}, "a category");
            Texts texts = read_texts(item.second);
            if (texts.summary.empty() || texts.sender.empty() || texts.admin.empty()) {
                fail_at(item.second,
                        fmt::format("category '{}' needs summary, sender and admin", key));
            }
            const auto all = all_categories();
            const std::size_t index = static_cast<std::size_t>(
                std::find(all.begin(), all.end(), *category) - all.begin());
            category_texts[index] = std::move(texts);
            seen[index] = true;
        }
        for (std::size_t i = 0; i < seen.size(); ++i) {
            if (!seen[i]) {
                fail_at(categories,
                        fmt::format("category '{}' has no texts", to_string(all_categories()[i])));
            }
        }
        const YAML::Node list = root["entries"];
        if (!list || !list.IsSequence()) {
            fail_at(root, "'entries' must be a list");
        }
        for (const YAML::Node& node : list) {
            entries.push_back(read_entry(node, name));
        }
    } catch (const LoadError& error) {
        return std::unexpected(
            util::Error{util::ErrorCode::Config, error.message, position(name, error.mark)});
    } catch (const YAML::Exception& error) {
        return std::unexpected(
            util::Error{util::ErrorCode::Config, error.msg, position(name, error.mark)});
    }
    return build(std::move(entries), std::move(category_texts));
}

}  // namespace mailwarden::explain
