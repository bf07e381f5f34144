// event.cpp - the two encodings of an Event: flat field/value pairs (Redis stream entries)
// and JSON (journal lines, `mailwardenctl events --json`), plus the time formats they use.
//
// Both encodings round-trip every field at millisecond precision. Decoding never throws:
// malformed input is InvalidInput naming the field. Recipients in the flat form are
// joined with ',' and a ',' or '\' inside an address is escaped with '\'.
#include "store/event.hpp"

#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mailwarden::store {
namespace {

using util::ErrorCode;

// The string members of Event with their field names, shared by both encodings.
struct StringField {
    const char* name;
    std::string Event::*member;
};
constexpr StringField kStringFields[] = {
    {"kind", &Event::kind},
    {"queue_id", &Event::queue_id},
    {"direction", &Event::direction},
    {"stage", &Event::stage},
    {"check", &Event::check},
    {"action", &Event::action},
    {"enhanced_code", &Event::enhanced_code},
    {"reply_text", &Event::reply_text},
    {"reason", &Event::reason},
    {"category", &Event::category},
    {"sender", &Event::sender},
    {"login", &Event::login},
    {"client_address", &Event::client_address},
    {"client_name", &Event::client_name},
    {"helo", &Event::helo},
    {"remote_host", &Event::remote_host},
    {"node", &Event::node},
    {"message_id", &Event::message_id},
    {"report_queue_id", &Event::report_queue_id},
};

std::string join_recipients(const std::vector<std::string>& recipients) {
    std::string out;
    for (std::size_t i = 0; i < recipients.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        for (char c : recipients[i]) {
            if (c == ',' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
    }
    return out;
}

std::vector<std::string> split_recipients(std::string_view text) {
    std::vector<std::string> out;
    if (text.empty()) {
        return out;
    }
    std::string current;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
            current += text[++i];
        } else if (c == ',') {
            out.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    out.push_back(std::move(current));
    return out;
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end && !text.empty();
}

util::SystemTime from_unix_ms(std::int64_t ms) {
    return util::SystemTime{
        std::chrono::duration_cast<util::SystemTime::duration>(std::chrono::milliseconds{ms})};
}

// Reads exactly `n` digits at `pos`; false when they are not all digits.
bool digits(std::string_view text, std::size_t& pos, std::size_t n, int& out) {
    if (pos + n > text.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
    if (pos < text.size() && (text[pos] == c || (c == 'T' && text[pos] == 't'))) {
        ++pos;
        return true;
    }
    return false;
}

}  // namespace

std::int64_t to_unix_ms(util::SystemTime t) {
    return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string to_rfc3339(util::SystemTime t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

util::Result<util::SystemTime> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    // RFC 3339 §5.6: date-time = full-date "T" full-time; time-offset = "Z" / ("+"/"-") hh:mm
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    const bool ok = digits(text, pos, 4, y) && expect(text, pos, '-') && digits(text, pos, 2, mo) &&
                    expect(text, pos, '-') && digits(text, pos, 2, d) && expect(text, pos, 'T') &&
                    digits(text, pos, 2, h) && expect(text, pos, ':') && digits(text, pos, 2, mi) &&
                    expect(text, pos, ':') && digits(text, pos, 2, s);
    const auto bad = [&] {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("not an RFC 3339 time: \"{}\"", text.substr(0, 64)));
    };
    if (!ok || h > 23 || mi > 59 || s > 60) {
        return bad();
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        return bad();
    }
    nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction += nanoseconds{(text[pos] - '0') * scale};
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return bad();
        }
    }
    minutes offset{0};
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!digits(text, pos, 2, oh) || !expect(text, pos, ':') || !digits(text, pos, 2, om) ||
            oh > 23 || om > 59) {
            return bad();
        }
        offset = minutes{sign * (oh * 60 + om)};
    } else {
        return bad();
    }
    if (pos != text.size()) {
        return bad();
    }
    const auto local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + fraction;
    return util::SystemTime{
        duration_cast<util::SystemTime::duration>(local.time_since_epoch() - offset)};
}

std::vector<std::pair<std::string, std::string>> to_fields(const Event& event) {
    std::vector<std::pair<std::string, std::string>> fields;
    fields.reserve(std::size(kStringFields) + 3);
    fields.emplace_back("time", std::to_string(to_unix_ms(event.time)));
    for (const auto& f : kStringFields) {
        const std::string& value = event.*f.member;
        if (!value.empty()) {
            fields.emplace_back(f.name, value);
        }
    }
    if (event.reply_code != 0) {
        fields.emplace_back("reply_code", std::to_string(event.reply_code));
    }
    if (!event.recipients.empty()) {
        fields.emplace_back("recipients", join_recipients(event.recipients));
    }
    return fields;
}

util::Result<Event> from_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
    Event event;
    bool have_time = false;
    for (const auto& [name, value] : fields) {
        if (name == "time") {
            std::int64_t ms = 0;
            if (!parse_int(value, ms)) {
                return util::fail(ErrorCode::InvalidInput,
                                  fmt::format("bad event time \"{}\"", value.substr(0, 64)));
            }
            event.time = from_unix_ms(ms);
            have_time = true;
        } else if (name == "reply_code") {
            if (!parse_int(value, event.reply_code)) {
                return util::fail(ErrorCode::InvalidInput,
                                  fmt::format("bad reply code \"{}\"", value.substr(0, 64)));
            }
        } else if (name == "recipients") {
            event.recipients = split_recipients(value);
        } else {
            for (const auto& f : kStringFields) {
                if (name == f.name) {
                    event.*f.member = value;
                    break;
                }
            }
        }
    }
    if (!have_time) {
        return util::fail(ErrorCode::InvalidInput, "event has no time");
    }
    return event;
}

nlohmann::json to_json(const Event& event) {
    nlohmann::json json = nlohmann::json::object();
    json["time"] = to_rfc3339(event.time);
    json["time_ms"] = to_unix_ms(event.time);
    json["id"] = event.id;
    for (const auto& f : kStringFields) {
        json[f.name] = event.*f.member;
    }
    json["reply_code"] = event.reply_code;
    json["recipients"] = event.recipients;
    return json;
}

util::Result<Event> from_json(const nlohmann::json& json) {
    if (!json.is_object()) {
        return util::fail(ErrorCode::InvalidInput, "event is not a JSON object");
    }
    Event event;
    if (auto it = json.find("time_ms"); it != json.end()) {
        if (!it->is_number_integer()) {
            return util::fail(ErrorCode::InvalidInput, "\"time_ms\" is not an integer");
        }
        event.time = from_unix_ms(it->get<std::int64_t>());
    } else if (auto t = json.find("time"); t != json.end() && t->is_string()) {
        auto parsed = parse_rfc3339(t->get_ref<const std::string&>());
        if (!parsed) {
            return std::unexpected(parsed.error());
        }
        event.time = *parsed;
    } else {
        return util::fail(ErrorCode::InvalidInput, "event has no time");
    }
    const auto string_member = [&](const char* name, std::string& out) -> util::Result<void> {
        auto it = json.find(name);
        if (it == json.end() || it->is_null()) {
            return {};
        }
        if (!it->is_string()) {
            return util::fail(ErrorCode::InvalidInput, fmt::format("\"{}\" is not a string", name));
        }
        out = it->get<std::string>();
        return {};
    };
    for (const auto& f : kStringFields) {
        if (auto r = string_member(f.name, event.*f.member); !r) {
            return std::unexpected(r.error());
        }
    }
    if (auto r = string_member("id", event.id); !r) {
        return std::unexpected(r.error());
    }
    if (auto it = json.find("reply_code"); it != json.end() && !it->is_null()) {
        if (!it->is_number_integer()) {
            return util::fail(ErrorCode::InvalidInput, "\"reply_code\" is not an integer");
        }
        event.reply_code = it->get<int>();
    }
    if (auto it = json.find("recipients"); it != json.end() && !it->is_null()) {
        if (!it->is_array()) {
            return util::fail(ErrorCode::InvalidInput, "\"recipients\" is not an array");
        }
        for (const auto& r : *it) {
            if (!r.is_string()) {
                return util::fail(ErrorCode::InvalidInput, "a recipient is not a string");
            }
            event.recipients.push_back(r.get<std::string>());
        }
    }
    return event;
}

}  // namespace mailwarden::store
