#include "util/error.hpp"

#include <fmt/format.h>

namespace mailwarden::util {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidInput: return "invalid-input";
        case ErrorCode::NotFound: return "not-found";
        case ErrorCode::TempFailure: return "temp-failure";
        case ErrorCode::PermFailure: return "perm-failure";
        case ErrorCode::Unavailable: return "unavailable";
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Config: return "config";
        case ErrorCode::Internal: return "internal";
    }
    return "unknown";
}

std::string Error::describe() const {
    if (!where) {
        return message;
    }
    if (where->line == 0) {
        return fmt::format("{}: {}", where->file, message);
    }
    return fmt::format("{}:{}:{}: {}", where->file, where->line, where->column, message);
}

}  // namespace mailwarden::util
