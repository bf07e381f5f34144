#include "dsn/delivery_status.hpp"

#include "util/ascii.hpp"

namespace mailwarden::dsn {

namespace {

bool is_blank(std::string_view line) {
    return util::trim(line).empty();
}

// Next line of `text` from `pos` (without its CR/LF); advances `pos`.
std::string_view next_line(std::string_view text, std::size_t& pos) {
    const std::size_t end = text.find('\n', pos);
    std::string_view line =
        end == std::string_view::npos ? text.substr(pos) : text.substr(pos, end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

bool has_any(const RecipientStatus& r) {
    return !r.final_recipient.empty() || !r.original_recipient.empty() || !r.action.empty() ||
           !r.status.empty() || !r.diagnostic_code.empty();
}

}  // namespace

std::string strip_address_type(std::string_view value) {
    value = util::trim(value);
    // RFC 3464 §2.3.2: address-type ";" generic-address.
    if (const std::size_t semi = value.find(';');
        semi != std::string_view::npos && semi < 16 &&
        value.substr(0, semi).find('@') == std::string_view::npos) {
        value = util::trim(value.substr(semi + 1));
    }
    if (value.size() >= 2 && value.front() == '<' && value.back() == '>') {
        value = value.substr(1, value.size() - 2);
    }
    return std::string(util::trim(value));
}

std::vector<std::pair<std::string, std::string>> parse_fields(std::string_view text,
                                                              bool stop_at_blank) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::string_view line = next_line(text, pos);
        if (is_blank(line)) {
            if (stop_at_blank) {
                break;
            }
            fields.emplace_back("", "");  // group separator
            continue;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !fields.empty() &&
            !fields.back().first.empty()) {
            fields.back().second += ' ';
            fields.back().second += util::trim(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            continue;  // not a field: ignore (broken reports contain prose)
        }
        fields.emplace_back(util::to_lower(util::trim(line.substr(0, colon))),
                            std::string(util::trim(line.substr(colon + 1))));
    }
    return fields;
}

DeliveryStatusFields parse_delivery_status(std::string_view body, std::size_t max_recipients) {
    DeliveryStatusFields out;
    RecipientStatus current;
    const auto flush = [&] {
        if (has_any(current) && out.recipients.size() < max_recipients) {
            out.recipients.push_back(std::move(current));
        }
        current = RecipientStatus{};
    };
    for (auto& [name, value] : parse_fields(body, false)) {
        if (name.empty()) {
            flush();
            continue;
        }
        if (name == "reporting-mta") {
            out.reporting_mta = strip_address_type(value);
        } else if (name == "arrival-date") {
            out.arrival_date = value;
        } else if (name == "x-postfix-queue-id") {
            out.mta_queue_id = value;
        } else if (name == "final-recipient" || name == "original-rcpt-to") {
            if (!current.final_recipient.empty()) {
                flush();
            }
            current.final_recipient = strip_address_type(value);
        } else if (name == "original-recipient") {
            if (!current.original_recipient.empty()) {
                flush();
            }
            current.original_recipient = strip_address_type(value);
        } else if (name == "action") {
            current.action = util::to_lower(util::trim(value));
            // "failed (bad address)": keep the RFC 3464 keyword only.
            if (const std::size_t space = current.action.find_first_of(" (");
                space != std::string::npos) {
                current.action.resize(space);
            }
        } else if (name == "status") {
            const std::string_view status = util::trim(value);
            current.status = std::string(status.substr(0, status.find_first_of(" \t(")));
        } else if (name == "remote-mta") {
            current.remote_mta = strip_address_type(value);
        } else if (name == "diagnostic-code") {
            current.diagnostic_code = value;
        } else if (name == "last-attempt-date") {
            current.last_attempt_date = value;
        } else if (name == "will-retry-until") {
            current.will_retry_until = value;
        } else if (name == "feedback-type") {
            current.feedback_type = util::to_lower(value);
        }
    }
    flush();
    return out;
}

}  // namespace mailwarden::dsn
