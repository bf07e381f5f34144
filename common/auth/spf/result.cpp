// result.cpp - SPF result names (RFC 7208 §2.6, RFC 8601 §2.7.2).
#include "auth/spf/result.hpp"

#include "util/ascii.hpp"

namespace mailwarden::auth::spf {

namespace {
constexpr Result kAll[] = {Result::None,     Result::Neutral,   Result::Pass,     Result::Fail,
                           Result::SoftFail, Result::TempError, Result::PermError};
}

std::string_view to_string(Result result) noexcept {
    switch (result) {
        case Result::None:
            return "none";
        case Result::Neutral:
            return "neutral";
        case Result::Pass:
            return "pass";
        case Result::Fail:
            return "fail";
        case Result::SoftFail:
            return "softfail";
        case Result::TempError:
            return "temperror";
        case Result::PermError:
            return "permerror";
    }
    return "permerror";
}

std::optional<Result> parse_result(std::string_view text) noexcept {
    for (const Result r : kAll) {
        if (util::iequals(text, to_string(r))) {
            return r;
        }
    }
    return std::nullopt;
}

}  // namespace mailwarden::auth::spf
