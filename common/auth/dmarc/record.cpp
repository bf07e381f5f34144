// record.cpp - DMARC policy record parsing (RFC 9989 §4.7, §4.8) and the result names.
//
// "v=DMARC1" must be the first tag (its value case-sensitive), or the text is not a DMARC
// record at all. Everything after it is forgiving, as §4.8 asks: unknown tags, terms without
// '=', and invalid values are ignored in favour of the defaults; a repeated tag keeps its
// first value. Tag names and keyword values compare case-insensitively (RFC 5234 strings).
// Whether the record carries a usable policy (a valid p=, valid sp=/np=) is recorded in
// Record::policy_valid; the evaluator applies §4.10.1 (rua= present -> p=none, else no
// DMARC processing). Never throws.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "auth/dmarc/evaluator.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dmarc {

namespace {

/// RFC 9989 §4.8 *WSP around separators.
std::string_view trim_wsp(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<Policy> parse_policy(std::string_view value) {
    if (util::iequals(value, "none")) {
        return Policy::None;
    }
    if (util::iequals(value, "quarantine")) {
        return Policy::Quarantine;
    }
    if (util::iequals(value, "reject")) {
        return Policy::Reject;
    }
    return std::nullopt;
}

bool is_tag_name(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (!std::isalpha(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

/// A dmarc-uri (RFC 3986 absolute URI, loosely: scheme ":" non-empty rest without
/// whitespace), with an obsolete "!size" suffix removed (RFC 9989 §4.8 obs-dmarc-uri).
std::optional<std::string> parse_uri(std::string_view text) {
    text = trim_wsp(text);
    if (const auto bang = text.rfind('!'); bang != std::string_view::npos) {
        std::string_view size = text.substr(bang + 1);
        if (!size.empty() && std::string_view("kmgtKMGT").find(size.back()) != std::string::npos) {
            size.remove_suffix(1);
        }
        const bool digits = !size.empty() && std::all_of(size.begin(), size.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) != 0;
        });
        if (digits) {
            text = text.substr(0, bang);
        }
    }
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
        !std::isalpha(static_cast<unsigned char>(text[0]))) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = text[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
            return std::nullopt;
        }
    }
    for (char c : text) {
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return std::nullopt;
        }
    }
    return std::string(text);
}

std::vector<std::string> parse_uri_list(std::string_view value) {
    std::vector<std::string> uris;
    for (std::string_view item : util::split(value, ',')) {
        if (auto uri = parse_uri(item)) {
            uris.push_back(std::move(*uri));
        }
    }
    return uris;
}

}  // namespace

std::string_view to_string(Result result) noexcept {
    switch (result) {
        case Result::None:
            return "none";
        case Result::Pass:
            return "pass";
        case Result::Fail:
            return "fail";
        case Result::TempError:
            return "temperror";
        case Result::PermError:
            return "permerror";
    }
    return "permerror";
}

std::string_view to_string(Policy policy) noexcept {
    switch (policy) {
        case Policy::None:
            return "none";
        case Policy::Quarantine:
            return "quarantine";
        case Policy::Reject:
            return "reject";
    }
    return "none";
}

std::optional<Record> parse_record(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Record> {
        if (error != nullptr) {
            *error = std::move(why);
        }
        return std::nullopt;
    };
    const auto terms = util::split(text, ';');
    // RFC 9989 §4.7 v: "MUST be the first tag"; its value "DMARC1" is case-sensitive.
    const std::string_view first = trim_wsp(terms.front());
    const auto eq = first.find('=');
    if (eq == std::string_view::npos || !util::iequals(trim_wsp(first.substr(0, eq)), "v")) {
        return fail("v=DMARC1 must come first");
    }
    if (trim_wsp(first.substr(eq + 1)) != "DMARC1") {
        return fail(fmt::format("the version is '{}', not DMARC1",
                                trim_wsp(first.substr(eq + 1)).substr(0, 40)));
    }

    Record record;
    record.text = std::string(text);
    bool have_p = false;
    bool bad_subpolicy = false;
    bool have_t = false;
    std::set<std::string> seen;
    for (std::size_t i = 1; i < terms.size(); ++i) {
        const std::string_view term = trim_wsp(terms[i]);
        const auto pos = term.find('=');
        if (pos == std::string_view::npos) {
            continue;  // §4.8: a syntax error in the remainder is ignored ("reject" alone)
        }
        const std::string name = util::to_lower(trim_wsp(term.substr(0, pos)));
        const std::string_view value = trim_wsp(term.substr(pos + 1));
        if (!is_tag_name(name) || value.empty() || !seen.insert(name).second) {
            continue;  // not a tag, no value, or a repeated tag: the first one counts
        }
        if (name == "p") {
            if (auto p = parse_policy(value)) {
                record.p = *p;
                have_p = true;
            }
        } else if (name == "sp" || name == "np") {
            auto policy = parse_policy(value);
            if (!policy) {
                bad_subpolicy = true;  // §4.10.1: "an sp or np tag that is not valid"
            } else if (name == "sp") {
                record.sp = policy;
            } else {
                record.np = policy;
            }
        } else if (name == "adkim" || name == "aspf") {
            bool& strict = name == "adkim" ? record.adkim_strict : record.aspf_strict;
            if (util::iequals(value, "s")) {
                strict = true;
            } else if (util::iequals(value, "r")) {
                strict = false;
            }
        } else if (name == "t") {
            if (util::iequals(value, "y") || util::iequals(value, "n")) {
                record.testing = util::iequals(value, "y");
                have_t = true;
            }
        } else if (name == "psd") {
            if (value.size() == 1 &&
                std::string_view("ynuYNU").find(value[0]) != std::string::npos) {
                record.psd = util::to_lower(value[0]);
            }
        } else if (name == "rua") {
            record.rua = parse_uri_list(value);
        } else if (name == "ruf") {
            record.ruf = parse_uri_list(value);
        } else if (name == "pct") {
            // RFC 7489 §6.3 pct, removed by RFC 9989 (Appendix A.6), which keeps its one
            // useful meaning as t=: "y" and "n" are "analogous to" pct=0 and pct=100. A
            // pct below 100 asked for the published policy on only part of the failures,
            // i.e. the domain is still testing: read as t=y. An explicit t= wins.
            int pct = -1;
            const auto* end = value.data() + value.size();
            const auto parsed = std::from_chars(value.data(), end, pct);
            if (parsed.ec == std::errc() && parsed.ptr == end && pct >= 0 && pct <= 100) {
                record.pct = pct;
            }
        }
        // Unknown tags (fo, rf, ri, future ones) are ignored: RFC 9989 §4.7.
    }
    if (record.pct && !have_t) {
        record.testing = *record.pct < 100;
    }
    record.policy_valid = have_p && !bad_subpolicy;
    if (!record.policy_valid) {
        record.p = Policy::None;
        record.sp.reset();
        record.np.reset();
    }
    return record;
}

}  // namespace mailwarden::auth::dmarc
