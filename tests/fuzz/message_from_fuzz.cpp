// message_from_fuzz.cpp - fuzzes the From: parser (message/author).
//
// The input is split at NUL bytes into From: field values (usually one). Properties checked:
// no crash or sanitizer report; a domain that comes back is lower case, without a trailing
// dot, non-empty and at most 253 bytes; author_domain and author_domains agree; an error
// message stays short (it quotes only an excerpt of the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "message/author.hpp"

namespace message = mailwarden::message;

namespace {

void check_domain(const std::string& domain) {
    if (domain.empty() || domain.size() > 253 || domain.back() == '.') {
        std::abort();
    }
    for (char c : domain) {
        if (c >= 'A' && c <= 'Z') {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> values;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '\0') {
            values.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    const auto one = message::author_domain(values);
    const auto all = message::author_domains(values);
    if (one) {
        check_domain(*one);
        if (!all || all->size() != 1 || all->front() != *one) {
            std::abort();
        }
    } else if (one.error().message.size() > 400) {
        std::abort();
    }
    if (all) {
        for (const auto& d : *all) {
            check_domain(d);
        }
    }
    if (!values.empty()) {
        const auto address = message::author_address(values.front());
        if (address && address->find('@') == std::string::npos) {
            std::abort();
        }
    }
    return 0;
}
