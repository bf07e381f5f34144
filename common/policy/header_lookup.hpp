// header_lookup.hpp - finding header fields of the current message by name.
#pragma once

#include <string_view>
#include <vector>

#include "policy/transaction.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

/// The values of every field called `name` (case-insensitive), in message order.
inline std::vector<std::string_view> header_values(const MessageInfo& message,
                                                   std::string_view name) {
    std::vector<std::string_view> values;
    for (const auto& field : message.headers) {
        if (util::iequals(field.name, name)) {
            values.push_back(field.value);
        }
    }
    return values;
}

}  // namespace mailwarden::policy
