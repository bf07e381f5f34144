// text_wrap.hpp - word wrapping for plain-text output (terminal tables, mail bodies).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailwarden::util {

/// `text`'s words (split on any white space) in lines of at most `width` columns (a longer
/// word gets a line of its own), each line prefixed by `indent` and ended by `newline`.
/// Empty for text without words.
std::string wrap_words(std::string_view text, std::size_t width, std::string_view indent,
                       std::string_view newline = "\n");

}  // namespace mailwarden::util
