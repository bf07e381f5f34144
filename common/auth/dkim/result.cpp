// result.cpp - DKIM result names (RFC 8601 §2.7.1).
#include "auth/dkim/result.hpp"

#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {

namespace {
constexpr Result kAll[] = {Result::None,   Result::Pass,      Result::Fail,     Result::Neutral,
                           Result::Policy, Result::TempError, Result::PermError};
}

std::string_view to_string(Result result) noexcept {
    switch (result) {
        case Result::None:
            return "none";
        case Result::Pass:
            return "pass";
        case Result::Fail:
            return "fail";
        case Result::Neutral:
            return "neutral";
        case Result::Policy:
            return "policy";
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

}  // namespace mailwarden::auth::dkim
