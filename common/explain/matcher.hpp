// matcher.hpp - many regular expressions matched at once, in linear time (RE2::Set).
//
// The catalog's text patterns are compiled into one RE2::Set (one DFA pass over the text,
// whatever the number of patterns) plus one RE2 per pattern, used only on the winning
// pattern to read its named captures ({listed_ip}, {list_name}...). Patterns are
// case-insensitive. Immutable after build: match() is thread-safe. Never throws.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>

#include "util/error.hpp"

namespace mailwarden::explain {

/// An immutable set of case-insensitive RE2 patterns.
class PatternSet {
  public:
    PatternSet();
    PatternSet(PatternSet&&) noexcept;
    PatternSet& operator=(PatternSet&&) noexcept;
    ~PatternSet();

    /// Checks one pattern alone; InvalidInput with RE2's message when it does not compile.
    [[nodiscard]] static util::Result<void> check(const std::string& pattern);

    /// Compiles `patterns` (index i = pattern i). InvalidInput naming the first bad pattern's
    /// index when one does not compile; Internal when RE2 cannot build the set.
    [[nodiscard]] static util::Result<PatternSet> build(std::span<const std::string> patterns);

    /// Indices of every pattern that matches somewhere in `text`, ascending.
    std::vector<int> match(std::string_view text) const;

    /// Whether pattern `index` matches `text`; fills `captures` with its named groups.
    bool match_one(int index, std::string_view text,
                   std::map<std::string, std::string, std::less<>>* captures) const;

    std::size_t size() const noexcept { return each_.size(); }

  private:
    std::unique_ptr<re2::RE2::Set> set_;
    std::vector<std::unique_ptr<re2::RE2>> each_;
};

}  // namespace mailwarden::explain
