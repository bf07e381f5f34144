// base64.hpp - strict base64 decoding of b=, bh= and p= values (RFC 6376 §2.4, RFC 4648 §4).
//
// Folding whitespace inside the value is ignored (RFC 6376 §3.5 b=); anything else that is
// not in the base64 alphabet, bad padding or a length that is not a multiple of four after
// whitespace removal is an error. Never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace mailwarden::auth::dkim {

/// The octets `text` encodes, or nullopt when it is not valid base64.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace mailwarden::auth::dkim
