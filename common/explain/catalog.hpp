// catalog.hpp - the explanation catalog: entries for codes and texts, and classification.
//
// Loaded from YAML (conf/explanations.yaml, format documented there and in
// docs/explanations.md) so administrators extend it without recompiling. Entries are keyed
// by RFC 3463 enhanced code ("x.1.1" for every class, or "5.7.1" exact), RFC 5321 reply
// code, or provider/filter text patterns (RE2, case-insensitive). Loading validates
// everything and reports errors with file:line:col. Immutable after load: classify() is
// thread-safe and never fails (unknown input classifies as "undefined").
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "explain/category.hpp"
#include "explain/explanation.hpp"
#include "explain/matcher.hpp"
#include "smtp/diagnostic.hpp"
#include "util/error.hpp"

namespace mailwarden::explain {

/// The three texts of an entry or of a category; may contain {placeholders}.
struct Texts {
    std::string summary;  ///< one line
    std::string sender;   ///< what happened, likely cause, what to do
    std::string admin;    ///< technical detail and what to check
};

/// One catalog entry, as loaded (texts already inherited from its category when omitted).
struct Entry {
    std::string id;
    Category category = Category::Undefined;
    /// Permanence when the diagnostic carries no code; nullopt = true for failures.
    std::optional<bool> permanent;
    Texts texts;
    /// Text patterns (RE2 syntax, case-insensitive); empty for code entries.
    std::vector<std::string> patterns;
    /// Diagnostics each pattern entry must classify to this very entry.
    std::vector<std::string> examples;
    /// "x.1.1" (any class) or "5.1.1" (that class only); empty when not a code entry.
    std::string status;
    /// RFC 5321 basic code; set only for reply-code entries.
    std::optional<int> reply_code;
    /// Pattern entries: a weak pattern yields to a specific enhanced code's entry.
    bool weak = false;
    /// Code entries: a generic code (x.0.0, x.7.1...) yields to weak patterns.
    bool generic = false;
    /// Pattern entries: a text that recipient-side filters also use ("User unknown"); the
    /// report's context decides between userunknown and filtered (dsn::explain).
    bool stage_dependent = false;
    /// Pattern entries: when not empty, the entry applies only to refusals by these
    /// providers - the remote host or the recipient's domain is one of these domains or
    /// under one ("ezweb.ne.jp" covers "lsean.ezweb.ne.jp"). Lower case.
    std::vector<std::string> hosts;
    /// Where the entry starts in its file.
    util::SourcePosition where;
};

/// The loaded catalog.
class Catalog {
  public:
    Catalog();
    Catalog(Catalog&&) noexcept;
    Catalog& operator=(Catalog&&) noexcept;
    ~Catalog();

    /// Loads and validates a catalog file. Config error with file:line:col on bad YAML, a
    /// bad regex, an unknown category or placeholder, a missing text, a duplicate key or
    /// an example that its own entry's patterns do not match; NotFound when unreadable.
    [[nodiscard]] static util::Result<Catalog> load_file(const std::filesystem::path& path);

    /// Same as load_file, from text; `name` stands for the file name in errors.
    [[nodiscard]] static util::Result<Catalog> load_string(std::string_view yaml,
                                                           std::string name = "<catalog>");

    /// Validates and indexes entries (the loader's last step; tests build catalogs with it).
    /// `category_texts` holds the texts of every category, indexed by its position in
    /// all_categories(). Config error with the offending entry's position.
    [[nodiscard]] static util::Result<Catalog> build(std::vector<Entry> entries,
                                                     std::vector<Texts> category_texts);

    /// Explains one diagnostic. Order: strong text patterns (file order: most specific
    /// first), the enhanced code's entry unless generic, weak patterns, the generic code
    /// entry, the subject's X.s.0 entry, the reply code's entry, the "undefined" category.
    Match classify(const smtp::Diagnostic& diagnostic, const Context& context = {}) const;

    /// parse_diagnostic, then classify.
    Match classify(std::string_view diagnostic, const Context& context = {}) const;

    /// A match for `category` itself, with the category's texts: for callers that know the
    /// reason from elsewhere (an ARF report, an auto-reply, a rule on the report's context).
    Match describe(Category category, const smtp::Diagnostic& diagnostic,
                   const Context& context = {}) const;

    /// Whether a pattern entry's `hosts` condition holds for this refusal (true without one).
    static bool applies_to_host(const Entry& entry, const smtp::Diagnostic& diagnostic,
                                const Context& context);

    /// The entry for exactly this code ("5.1.1" or "x.1.1"); nullptr when none.
    const Entry* find_status(const smtp::EnhancedStatus& status) const;
    /// The entry for this basic reply code; nullptr when none.
    const Entry* find_reply(int reply_code) const;
    /// The entry with this id; nullptr when none.
    const Entry* find_id(std::string_view id) const;

    std::span<const Entry> entries() const noexcept { return entries_; }
    /// The texts a category gives when an entry has none of its own.
    const Texts& category_texts(Category category) const;

  private:
    Match make_match(const Entry& entry, MatchSource source, const smtp::Diagnostic& diagnostic,
                     const Context& context,
                     std::map<std::string, std::string, std::less<>> captures) const;

    std::vector<Entry> entries_;
    std::vector<Texts> category_texts_;
    std::vector<Entry> category_entries_;  // one synthetic entry per category, for describe()
    PatternSet patterns_;
    std::vector<std::size_t> pattern_owner_;                  // pattern index -> entry index
    std::unordered_map<std::string, std::size_t> by_status_;  // "x.1.1"/"5.1.1" -> entry
    std::unordered_map<int, std::size_t> by_reply_;           // 550 -> entry
    std::unordered_map<std::string, std::size_t> by_id_;
};

}  // namespace mailwarden::explain
