// tag_list.hpp - the tag=value lists of DKIM-Signature fields and key records (RFC 6376 §3.2).
//
// Grammar-exact: tag names are ALPHA *(ALPHA / DIGIT / "_"), values are VALCHARs with
// folding whitespace only between them, a tag may appear once, one trailing ";" is allowed.
// Whitespace is SP, HTAB, CR and LF (folding). Never throws; linear in the input.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailwarden::auth::dkim {

/// One tag-spec. `name` and `value` are views into the parsed text; `value` has no leading
/// or trailing whitespace (inner folding is kept, as the grammar allows).
struct Tag {
    std::string_view name;
    std::string_view value;
    std::size_t value_begin = 0;  ///< offset just after the "=" in the parsed text
    std::size_t spec_end = 0;     ///< offset of the ";" ending the tag-spec (or the text size)
};

/// A parsed tag-list, in the order written.
class TagList {
  public:
    /// The value of tag `name` (case-sensitive, RFC 6376 §3.2), or nullopt when absent.
    std::optional<std::string_view> find(std::string_view name) const noexcept;
    /// The tag named `name`, or nullptr.
    const Tag* tag(std::string_view name) const noexcept;
    const std::vector<Tag>& tags() const noexcept { return tags_; }

  private:
    friend std::expected<TagList, std::string> parse_tag_list(std::string_view text);
    std::vector<Tag> tags_;
};

/// At most this many tags in one list: more is not DKIM (and bounds the duplicate check).
inline constexpr std::size_t kMaxTags = 64;

/// Parses `text`. On error, a plain-language reason ("duplicate tag 'b'", "tag 'h' has no
/// '='", "invalid tag name '1a'"). The returned views point into `text`.
std::expected<TagList, std::string> parse_tag_list(std::string_view text);

/// True for the folding whitespace bytes of a tag-list: SP, HTAB, CR, LF.
constexpr bool is_fws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// `text` without leading and trailing SP, HTAB, CR and LF.
std::string_view trim_fws(std::string_view text) noexcept;

/// `text` with every SP, HTAB, CR and LF removed (base64 values, RFC 6376 §3.5 b=).
std::string strip_fws(std::string_view text);

}  // namespace mailwarden::auth::dkim
