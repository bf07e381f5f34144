#include "config/units.hpp"

#include <charconv>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::config {

namespace {

struct Number {
    std::uint64_t value = 0;
    std::string_view unit;
};

util::Result<Number> split_number(std::string_view text, std::string_view what) {
    text = util::trim(text);
    Number n;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n.value);
    if (ec != std::errc{} || end == text.data()) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("'{}' is not a {}", text, what));
    }
    n.unit = util::trim(std::string_view(end, text.data() + text.size() - end));
    return n;
}

}  // namespace

util::Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    auto n = split_number(text, "duration (e.g. 500ms, 30s, 5m, 1h, 7d)");
    if (!n) {
        return std::unexpected(n.error());
    }
    constexpr std::uint64_t kMaxMs = 10ull * 366 * 24 * 3600 * 1000;
    std::uint64_t factor = 0;
    const std::string unit = util::to_lower(n->unit);
    if (unit == "ms") {
        factor = 1;
    } else if (unit.empty() || unit == "s") {
        factor = 1000;
    } else if (unit == "m") {
        factor = 60'000;
    } else if (unit == "h") {
        factor = 3'600'000;
    } else if (unit == "d") {
        factor = 86'400'000;
    } else {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("unknown duration unit '{}' in '{}' (use ms, s, m, h, d)",
                                      n->unit, util::trim(text)));
    }
    if (n->value > kMaxMs / factor) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("duration '{}' is too long", util::trim(text)));
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(n->value * factor));
}

util::Result<std::uint64_t> parse_size(std::string_view text) {
    auto n = split_number(text, "size (e.g. 64KB, 10MB, 1GB)");
    if (!n) {
        return std::unexpected(n.error());
    }
    const std::string unit = util::to_lower(n->unit);
    int shift = 0;
    if (unit.empty() || unit == "b") {
        shift = 0;
    } else if (unit == "kb" || unit == "k") {
        shift = 10;
    } else if (unit == "mb" || unit == "m") {
        shift = 20;
    } else if (unit == "gb" || unit == "g") {
        shift = 30;
    } else {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("unknown size unit '{}' (use B, KB, MB, GB)", n->unit));
    }
    if (n->value > (std::uint64_t{1} << (62 - shift))) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("size '{}' is too large", util::trim(text)));
    }
    return n->value << shift;
}

}  // namespace mailwarden::config
