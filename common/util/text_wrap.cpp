#include "util/text_wrap.hpp"

namespace mailwarden::util {

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

}  // namespace

std::string wrap_words(std::string_view text, std::size_t width, std::string_view indent,
                       std::string_view newline) {
    std::string out;
    std::string line;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_blank(text[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_blank(text[i])) {
            ++i;
        }
        if (start == i) {
            break;
        }
        const std::string_view word = text.substr(start, i - start);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out.append(indent).append(line).append(newline);
            line.clear();
        }
        if (!line.empty()) {
            line += ' ';
        }
        line.append(word);
    }
    if (!line.empty()) {
        out.append(indent).append(line).append(newline);
    }
    return out;
}

}  // namespace mailwarden::util
