#include "store/failure_stats.hpp"

#include "util/ascii.hpp"

namespace mailwarden::store {

std::string_view to_string(FailureDimension dimension) noexcept {
    switch (dimension) {
        case FailureDimension::Code:
            return "code";
        case FailureDimension::Category:
            return "category";
        case FailureDimension::Domain:
            return "domain";
        case FailureDimension::RemoteHost:
            return "host";
    }
    return "code";
}

std::optional<FailureDimension> parse_failure_dimension(std::string_view text) noexcept {
    if (text == "code" || text == "codes") {
        return FailureDimension::Code;
    }
    if (text == "category" || text == "categories") {
        return FailureDimension::Category;
    }
    if (text == "domain" || text == "domains") {
        return FailureDimension::Domain;
    }
    if (text == "host" || text == "hosts") {
        return FailureDimension::RemoteHost;
    }
    return std::nullopt;
}

std::string_view to_string(FailureOwner owner) noexcept {
    switch (owner) {
        case FailureOwner::Sender:
            return "sender";
        case FailureOwner::Login:
            return "login";
        case FailureOwner::Domain:
            return "domain";
    }
    return "sender";
}

bool is_outgoing_failure(const Event& event) {
    return event.kind == "outgoing_failure";
}

std::string recipient_domain(const Event& event) {
    if (event.recipients.empty()) {
        return {};
    }
    const std::string& r = event.recipients.front();
    const auto at = r.rfind('@');
    return at == std::string::npos ? std::string() : util::to_lower(r.substr(at + 1));
}

std::string failure_value(const Event& event, FailureDimension dimension) {
    switch (dimension) {
        case FailureDimension::Code:
            if (!event.enhanced_code.empty()) {
                return event.enhanced_code;
            }
            return event.reply_code != 0 ? std::to_string(event.reply_code) : std::string();
        case FailureDimension::Category:
            return event.category;
        case FailureDimension::Domain:
            return recipient_domain(event);
        case FailureDimension::RemoteHost:
            return util::to_lower(event.remote_host);
    }
    return {};
}

std::vector<std::pair<FailureOwner, std::string>> failure_owners(const Event& event) {
    std::vector<std::pair<FailureOwner, std::string>> out;
    if (!event.sender.empty()) {
        out.emplace_back(FailureOwner::Sender, util::to_lower(event.sender));
    }
    if (!event.login.empty()) {
        out.emplace_back(FailureOwner::Login, event.login);
    }
    if (std::string domain = recipient_domain(event); !domain.empty()) {
        out.emplace_back(FailureOwner::Domain, std::move(domain));
    }
    return out;
}

}  // namespace mailwarden::store
