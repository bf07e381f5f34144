#include "explain/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "util/ascii.hpp"

namespace mailwarden::explain {

namespace {

util::Error entry_error(const Entry& entry, std::string message) {
    util::Error error{util::ErrorCode::Config, std::move(message), entry.where};
    return error;
}

std::size_t category_index(Category category) {
    const auto all = all_categories();
    const auto found = std::find(all.begin(), all.end(), category);
    return static_cast<std::size_t>(found - all.begin());
}

// Checks that every {placeholder} in `text` is known.
std::optional<std::string> unknown_placeholder(std::string_view text) {
    std::size_t pos = 0;
    while ((pos = text.find('{', pos)) != std::string_view::npos) {
        if (pos + 1 < text.size() && text[pos + 1] == '{') {
            pos += 2;
            continue;
        }
        const std::size_t close = text.find('}', pos);
        if (close == std::string_view::npos) {
            return std::string(text.substr(pos));
        }
        const std::string_view name = text.substr(pos + 1, close - pos - 1);
        if (!is_known_placeholder(name)) {
            return std::string(name);
        }
        pos = close + 1;
    }
    return std::nullopt;
}

// Lower-case status key: "x.1.1" or "5.1.1"; empty when `key` is not one.
std::string normalise_status_key(std::string_view key) {
    std::string lower = util::to_lower(util::trim(key));
    if (lower.size() >= 5 && (lower[0] == 'x')) {
        const std::string probe = "5" + lower.substr(1);
        return smtp::parse_enhanced_status(probe) ? lower : std::string();
    }
    return smtp::parse_enhanced_status(lower) ? lower : std::string();
}

// The text patterns are matched against: "550 5.7.26 the text".
std::string match_text(const smtp::Diagnostic& diagnostic) {
    std::string text;
    if (diagnostic.reply_code) {
        text += fmt::format("{} ", *diagnostic.reply_code);
    }
    if (diagnostic.status) {
        text += diagnostic.status->to_string();
        text += ' ';
    }
    text += diagnostic.text;
    return text;
}

// The first IPv4 address in `text` other than `except` (the remote server's own): in a
// refusal it is almost always our listed sending IP. A plain scan, no regex.
std::string first_other_ipv4(std::string_view text, std::string_view except) {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (!digit(text[pos]) || (pos > 0 && (digit(text[pos - 1]) || text[pos - 1] == '.'))) {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        int dots = 0;
        int run = 0;
        bool valid = true;
        while (end < text.size() && (digit(text[end]) || text[end] == '.')) {
            if (text[end] == '.') {
                valid = valid && run > 0;
                ++dots;
                run = 0;
            } else {
                valid = valid && ++run <= 3;
            }
            ++end;
        }
        if (end > pos && text[end - 1] == '.') {
            --end;  // sentence full stop after the address
            --dots;
            run = 1;
        }
        if (valid && dots == 3 && run > 0) {
            const std::string_view ip = text.substr(pos, end - pos);
            if (ip != except) {
                return std::string(ip);
            }
        }
        pos = end + 1;
    }
    return "";
}

std::string domain_of(std::string_view address) {
    const std::size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

}  // namespace

Catalog::Catalog() = default;
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;
Catalog::~Catalog() = default;

util::Result<Catalog> Catalog::build(std::vector<Entry> entries,
                                     std::vector<Texts> category_texts) {
    Catalog catalog;
    const auto all = all_categories();
    if (category_texts.size() != all.size()) {
        return std::unexpected(
            util::Error{util::ErrorCode::Config, "every category needs its texts", std::nullopt});
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Texts& texts = category_texts[i];
        if (texts.summary.empty() || texts.sender.empty() || texts.admin.empty()) {
            return std::unexpected(util::Error{
                util::ErrorCode::Config,
                fmt::format("category '{}' lacks summary, sender or admin text", to_string(all[i])),
                std::nullopt});
        }
    }

    std::vector<std::string> patterns;
    for (std::size_t index = 0; index < entries.size(); ++index) {
        Entry& entry = entries[index];
        if (entry.id.empty()) {
            return std::unexpected(entry_error(entry, "entry without an id"));
        }
        if (!catalog.by_id_.emplace(entry.id, index).second) {
            return std::unexpected(entry_error(entry, fmt::format("duplicate id '{}'", entry.id)));
        }
        const Texts& inherited = category_texts[category_index(entry.category)];
        if (entry.texts.summary.empty()) {
            entry.texts.summary = inherited.summary;
        }
        if (entry.texts.sender.empty()) {
            entry.texts.sender = inherited.sender;
        }
        if (entry.texts.admin.empty()) {
            entry.texts.admin = inherited.admin;
        }
        for (const std::string* text :
             {&entry.texts.summary, &entry.texts.sender, &entry.texts.admin}) {
            if (const auto bad = unknown_placeholder(*text)) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': unknown placeholder {{{}}}", entry.id, *bad)));
            }
        }
        const int keys = (entry.patterns.empty() ? 0 : 1) + (entry.status.empty() ? 0 : 1) +
                         (entry.reply_code ? 1 : 0);
        if (keys != 1) {
            return std::unexpected(entry_error(
                entry,
                fmt::format("entry '{}' needs exactly one of match, status, reply", entry.id)));
        }
        if (!entry.status.empty()) {
            const std::string key = normalise_status_key(entry.status);
            if (key.empty()) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': '{}' is not an enhanced status code", entry.id,
                                       entry.status)));
            }
            entry.status = key;
            if (!catalog.by_status_.emplace(key, index).second) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': code {} already has an entry", entry.id, key)));
            }
        }
        if (entry.reply_code) {
            const auto code = smtp::parse_reply_code(fmt::format("{}", *entry.reply_code));
            if (!code) {
                return std::unexpected(
                    entry_error(entry, fmt::format("entry '{}': {} is not a reply code", entry.id,
                                                   *entry.reply_code)));
            }
            if (!catalog.by_reply_.emplace(*code, index).second) {
                return std::unexpected(entry_error(
                    entry,
                    fmt::format("entry '{}': reply {} already has an entry", entry.id, *code)));
            }
        }
        if (!entry.patterns.empty() && entry.examples.empty()) {
            return std::unexpected(entry_error(
                entry, fmt::format("entry '{}' has patterns but no examples", entry.id)));
        }
        for (const std::string& pattern : entry.patterns) {
            if (auto checked = PatternSet::check(pattern); !checked) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': {}", entry.id, checked.error().message)));
            }
            patterns.push_back(pattern);
            catalog.pattern_owner_.push_back(index);
        }
    }
    auto set = PatternSet::build(patterns);
    if (!set) {
        return std::unexpected(set.error());
    }
    catalog.patterns_ = std::move(*set);
    catalog.entries_ = std::move(entries);
    catalog.category_texts_ = std::move(category_texts);
    for (std::size_t i = 0; i < all.size(); ++i) {
        Entry entry;
        entry.id = fmt::format("category-{}", to_string(all[i]));
        entry.category = all[i];
        entry.texts = catalog.category_texts_[i];
        catalog.category_entries_.push_back(std::move(entry));
    }

    // Each example must match one of its own entry's patterns, and each pattern one of
    // its entry's examples (classifying to the *winning* entry is a property of the whole
    // catalog, checked by the tests).
    for (std::size_t p = 0, index = 0; index < catalog.entries_.size(); ++index) {
        const Entry& entry = catalog.entries_[index];
        const std::size_t first = p;
        p += entry.patterns.size();
        std::vector<std::string> texts;
        for (const std::string& example : entry.examples) {
            texts.push_back(match_text(smtp::parse_diagnostic(example)));
        }
        for (std::size_t e = 0; e < texts.size(); ++e) {
            bool matched = false;
            for (std::size_t i = first; i < p && !matched; ++i) {
                matched = catalog.patterns_.match_one(static_cast<int>(i), texts[e], nullptr);
            }
            if (!matched) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': example \"{}\" matches none of its patterns",
                                       entry.id, entry.examples[e])));
            }
        }
        for (std::size_t i = first; i < p; ++i) {
            bool matched = false;
            for (std::size_t e = 0; e < texts.size() && !matched; ++e) {
                matched = catalog.patterns_.match_one(static_cast<int>(i), texts[e], nullptr);
            }
            if (!matched) {
                return std::unexpected(entry_error(
                    entry, fmt::format("entry '{}': pattern /{}/ has no example that it matches",
                                       entry.id, entry.patterns[i - first])));
            }
        }
    }
    return catalog;
}

bool Catalog::applies_to_host(const Entry& entry, const smtp::Diagnostic& diagnostic,
                              const Context& context) {
    if (entry.hosts.empty()) {
        return true;
    }
    const auto under = [](std::string_view name, std::string_view domain) {
        while (name.ends_with('.')) {
            name.remove_suffix(1);
        }
        return util::iequals(name, domain) ||
               (name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
                util::iequals(name.substr(name.size() - domain.size()), domain));
    };
    const std::string recipient_domain = domain_of(context.recipient);
    for (const std::string& domain : entry.hosts) {
        if (under(diagnostic.remote_host, domain) || under(context.remote_host, domain) ||
            under(recipient_domain, domain)) {
            return true;
        }
    }
    return false;
}

const Texts& Catalog::category_texts(Category category) const {
    return category_texts_[category_index(category)];
}

const Entry* Catalog::find_status(const smtp::EnhancedStatus& status) const {
    const std::string exact = status.to_string();
    if (const auto found = by_status_.find(exact); found != by_status_.end()) {
        return &entries_[found->second];
    }
    const std::string any = "x" + exact.substr(1);
    if (const auto found = by_status_.find(any); found != by_status_.end()) {
        return &entries_[found->second];
    }
    return nullptr;
}

const Entry* Catalog::find_reply(int reply_code) const {
    const auto found = by_reply_.find(reply_code);
    return found == by_reply_.end() ? nullptr : &entries_[found->second];
}

const Entry* Catalog::find_id(std::string_view id) const {
    const auto found = by_id_.find(std::string(id));
    return found == by_id_.end() ? nullptr : &entries_[found->second];
}

Match Catalog::describe(Category category, const smtp::Diagnostic& diagnostic,
                        const Context& context) const {
    if (category_entries_.empty()) {
        Entry entry;
        entry.category = category;
        Match match = make_match(entry, MatchSource::Fallback, diagnostic, context, {});
        match.entry = nullptr;
        return match;
    }
    return make_match(category_entries_[category_index(category)], MatchSource::Fallback,
                      diagnostic, context, {});
}

Match Catalog::classify(std::string_view diagnostic, const Context& context) const {
    return classify(smtp::parse_diagnostic(diagnostic), context);
}

Match Catalog::classify(const smtp::Diagnostic& diagnostic, const Context& context) const {
    const std::string text = match_text(diagnostic);
    const std::vector<int> hits = patterns_.match(text);

    const Entry* code_entry = nullptr;
    if (diagnostic.status) {
        code_entry = find_status(*diagnostic.status);
    }
    // First strong pattern in file order wins.
    int first_weak = -1;
    for (const int hit : hits) {
        const Entry& entry = entries_[pattern_owner_[static_cast<std::size_t>(hit)]];
        if (!applies_to_host(entry, diagnostic, context)) {
            continue;
        }
        if (entry.weak) {
            if (first_weak < 0) {
                first_weak = hit;
            }
            continue;
        }
        std::map<std::string, std::string, std::less<>> captures;
        patterns_.match_one(hit, text, &captures);
        return make_match(entry, MatchSource::Pattern, diagnostic, context, std::move(captures));
    }
    if (code_entry != nullptr && !code_entry->generic) {
        return make_match(*code_entry, MatchSource::EnhancedStatus, diagnostic, context, {});
    }
    if (first_weak >= 0) {
        const Entry& entry = entries_[pattern_owner_[static_cast<std::size_t>(first_weak)]];
        std::map<std::string, std::string, std::less<>> captures;
        patterns_.match_one(first_weak, text, &captures);
        return make_match(entry, MatchSource::Pattern, diagnostic, context, std::move(captures));
    }
    if (code_entry != nullptr) {
        return make_match(*code_entry, MatchSource::EnhancedStatus, diagnostic, context, {});
    }
    if (diagnostic.status) {
        // An unregistered detail ("5.7.99"): the subject's X.s.0, then the class's X.0.0.
        for (const smtp::EnhancedStatus& wider :
             {smtp::EnhancedStatus{diagnostic.status->klass, diagnostic.status->subject, 0},
              smtp::EnhancedStatus{diagnostic.status->klass, 0, 0}}) {
            if (const Entry* entry = find_status(wider)) {
                return make_match(*entry, MatchSource::EnhancedStatus, diagnostic, context, {});
            }
        }
    }
    if (diagnostic.reply_code) {
        if (const Entry* entry = find_reply(*diagnostic.reply_code)) {
            return make_match(*entry, MatchSource::ReplyCode, diagnostic, context, {});
        }
    }
    Match match = describe(Category::Undefined, diagnostic, context);
    match.entry_id = "undefined";
    return match;
}

Match Catalog::make_match(const Entry& entry, MatchSource source,
                          const smtp::Diagnostic& diagnostic, const Context& context,
                          std::map<std::string, std::string, std::less<>> captures) const {
    Match match;
    match.entry = &entry;
    match.entry_id = entry.id;
    match.category = entry.category;
    match.source = source;
    match.reply_code = diagnostic.reply_code;
    match.remote_host =
        !diagnostic.remote_host.empty() ? diagnostic.remote_host : context.remote_host;
    const bool failure = entry.category != Category::Delivered &&
                         entry.category != Category::Feedback &&
                         entry.category != Category::Vacation;
    match.permanent = diagnostic.permanent().value_or(entry.permanent.value_or(failure));
    if (diagnostic.status) {
        match.status = diagnostic.status->to_string();
        match.status_from_diagnostic = true;
    } else if (failure) {
        match.status = std::string(derived_status(entry.category, match.permanent));
    }

    auto& values = match.values;
    values = std::move(captures);
    values.emplace("recipient", context.recipient);
    values.emplace("domain", domain_of(context.recipient));
    values.emplace("sender", context.sender);
    values.emplace("sender_domain", domain_of(context.sender));
    values.emplace("remote_host", match.remote_host);
    values.emplace("remote_ip",
                   !diagnostic.remote_ip.empty() ? diagnostic.remote_ip : context.remote_ip);
    if (!values.contains("listed_ip")) {
        values.emplace("listed_ip", first_other_ipv4(diagnostic.text, diagnostic.remote_ip));
    }
    values.emplace("status", match.status);
    values.emplace("reply_code",
                   diagnostic.reply_code ? fmt::format("{}", *diagnostic.reply_code) : "");
    values.emplace("diagnostic", diagnostic.text);
    values.emplace("category", std::string(to_string(entry.category)));

    const Texts& texts = entry.texts.summary.empty() && !category_texts_.empty()
                             ? category_texts(entry.category)
                             : entry.texts;
    match.summary = fill_placeholders(texts.summary, values);
    match.user_text = fill_placeholders(texts.sender, values);
    match.admin_text = fill_placeholders(texts.admin, values);
    return match;
}

}  // namespace mailwarden::explain
