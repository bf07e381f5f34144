#include "explain/matcher.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <fmt/format.h>
#include <algorithm>

namespace mailwarden::explain {

namespace {

// The set's DFA may need more than RE2's 8 MB default for a few hundred alternations.
constexpr int64_t kSetMemoryBytes = 64LL << 20;

RE2::Options pattern_options() {
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    options.set_max_mem(kSetMemoryBytes);
    return options;
}

}  // namespace

PatternSet::PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;
PatternSet::~PatternSet() = default;

util::Result<void> PatternSet::check(const std::string& pattern) {
    const RE2 re(pattern, pattern_options());
    if (!re.ok()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("bad regular expression /{}/: {}", pattern, re.error()));
    }
    return {};
}

util::Result<PatternSet> PatternSet::build(std::span<const std::string> patterns) {
    PatternSet result;
    result.set_ = std::make_unique<RE2::Set>(pattern_options(), RE2::UNANCHORED);
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        auto re = std::make_unique<RE2>(patterns[i], pattern_options());
        if (!re->ok()) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("pattern {}: bad regular expression /{}/: {}", i,
                                          patterns[i], re->error()));
        }
        std::string error;
        if (result.set_->Add(patterns[i], &error) < 0) {
            return util::fail(
                util::ErrorCode::InvalidInput,
                fmt::format("pattern {}: bad regular expression /{}/: {}", i, patterns[i], error));
        }
        result.each_.push_back(std::move(re));
    }
    if (!result.set_->Compile()) {
        return util::fail(util::ErrorCode::Internal, "RE2 could not compile the pattern set");
    }
    return result;
}

std::vector<int> PatternSet::match(std::string_view text) const {
    std::vector<int> found;
    if (!set_ || each_.empty()) {
        return found;
    }
    const re2::StringPiece piece(text.data(), text.size());
    RE2::Set::ErrorInfo error{};
    if (!set_->Match(piece, &found, &error) && error.kind != RE2::Set::kNoError) {
        // XXX: the DFA ran out of memory (or similar); fall back to the individual
        // patterns, still linear per pattern.
        found.clear();
        for (std::size_t i = 0; i < each_.size(); ++i) {
            if (RE2::PartialMatch(piece, *each_[i])) {
                found.push_back(static_cast<int>(i));
            }
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

bool PatternSet::match_one(int index, std::string_view text,
                           std::map<std::string, std::string, std::less<>>* captures) const {
    if (index < 0 || static_cast<std::size_t>(index) >= each_.size()) {
        return false;
    }
    const RE2& re = *each_[static_cast<std::size_t>(index)];
    const int groups = re.NumberOfCapturingGroups();
    std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(groups) + 1);
    const re2::StringPiece piece(text.data(), text.size());
    if (!re.Match(piece, 0, piece.size(), RE2::UNANCHORED, pieces.data(),
                  static_cast<int>(pieces.size()))) {
        return false;
    }
    if (captures != nullptr) {
        for (const auto& [name, group] : re.NamedCapturingGroups()) {
            const re2::StringPiece& value = pieces[static_cast<std::size_t>(group)];
            if (value.data() != nullptr && !value.empty()) {
                (*captures)[name] = std::string(value.data(), value.size());
            }
        }
    }
    return true;
}

}  // namespace mailwarden::explain
