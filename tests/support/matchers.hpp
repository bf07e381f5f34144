// matchers.hpp - gMock matchers for util::Result: IsOk(), IsOkAndHolds(m), HasError(code).
#pragma once

#include <gmock/gmock.h>

#include "util/error.hpp"

namespace mailwarden::testing {

/// Matches a Result that holds a value; on failure prints the error.
MATCHER(IsOk, "is ok") {
    if (arg.has_value()) {
        return true;
    }
    *result_listener << "error: " << arg.error().describe();
    return false;
}

/// Matches a Result whose value matches `inner`.
MATCHER_P(IsOkAndHolds, inner, "is ok and holds a matching value") {
    if (!arg.has_value()) {
        *result_listener << "error: " << arg.error().describe();
        return false;
    }
    return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

/// Matches a Result holding an error with the given ErrorCode.
MATCHER_P(HasError, code, "has error " + std::string(util::to_string(code))) {
    if (arg.has_value()) {
        *result_listener << "has a value";
        return false;
    }
    *result_listener << "error " << util::to_string(arg.error().code) << ": "
                     << arg.error().describe();
    return arg.error().code == code;
}

}  // namespace mailwarden::testing
