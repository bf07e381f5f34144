// dkim_tag_list_fuzz.cpp - fuzzes the RFC 6376 §3.2 tag-list parser and what is built on it.
//
// The input is parsed as a tag-list, a DKIM-Signature value and a key record. Properties
// checked: no crash or sanitizer report; a parsed list has unique, valid names whose views
// and offsets lie inside the input; the b= removal keeps everything but the b= value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "auth/dkim/key_record.hpp"
#include "auth/dkim/signature.hpp"
#include "auth/dkim/tag_list.hpp"

namespace dkim = mailwarden::auth::dkim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto list = dkim::parse_tag_list(text);
    if (list) {
        std::set<std::string_view> names;
        for (const auto& tag : list->tags()) {
            const char* begin = text.data();
            const char* end = text.data() + text.size();
            if (tag.name.empty() || tag.name.data() < begin ||
                tag.name.data() + tag.name.size() > end || tag.value.data() < begin ||
                tag.value.data() + tag.value.size() > end || tag.value_begin > tag.spec_end ||
                tag.spec_end > text.size() || !names.insert(tag.name).second) {
                std::abort();
            }
        }
    }
    const auto sig = dkim::parse_signature(text);
    if (sig) {
        const dkim::Tag* b = list ? list->tag("b") : nullptr;
        if (b == nullptr ||
            sig->value_without_b.size() != text.size() - (b->spec_end - b->value_begin)) {
            std::abort();  // only the b= value (and its whitespace) is removed
        }
    }
    (void)dkim::peek_identity(text);
    const auto key = dkim::parse_key_record(text);
    if (key && sig) {
        (void)dkim::check_key_usable(*key, *sig);
    }
    return 0;
}
