// error.hpp - the error value every module returns across its boundary.
//
// Expected failures are values: functions return util::Result<T>, an alias for
// std::expected<T, util::Error>. An Error carries a closed ErrorCode, a message for a
// human, and where it applies a position in a file (config, zone, catalog).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mailwarden::util {

/// What kind of failure an Error reports; callers branch on this, never on the message.
enum class ErrorCode {
    InvalidInput,  ///< the input is malformed; retrying the same input fails again
    NotFound,      ///< the thing asked for does not exist
    TempFailure,   ///< a transient failure: the same request may succeed later
    PermFailure,   ///< a permanent failure of the operation (not of the input)
    Unavailable,   ///< a backend (Redis, DNS, file system) cannot be reached
    Timeout,       ///< the operation ran past its deadline
    Config,        ///< the configuration is invalid
    Internal,      ///< a bug: an invariant did not hold
};

/// The code's name, as it appears in logs ("invalid-input", "timeout", ...).
std::string_view to_string(ErrorCode code);

/// A place in a file, 1-based; line 0 means "the whole file".
struct SourcePosition {
    std::string file;
    int line = 0;
    int column = 0;
};

/// A failure: code, human message, and optionally where in a file it was found.
struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
    std::optional<SourcePosition> where;

    /// "file:line:col: message" when a position is known, else the message alone.
    std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure from a function that returns Result<T>.
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
    return std::unexpected<Error>(Error{code, std::move(message), std::nullopt});
}

}  // namespace mailwarden::util
