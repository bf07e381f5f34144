#include "explain/category.hpp"

#include <array>

#include "util/ascii.hpp"

namespace mailwarden::explain {

namespace {

struct CategoryInfo {
    Category category;
    std::string_view name;
    std::string_view permanent_status;  // derived code when the failure is permanent
    std::string_view transient_status;  // derived code when it is transient
};

// sisimai's internal codes (smtp/status Code()): detail 9xx = "derived from the text".
constexpr std::array<CategoryInfo, 36> kCategories{{
    {Category::UserUnknown, "userunknown", "5.0.911", "4.0.911"},
    {Category::MailboxFull, "mailboxfull", "5.0.922", "4.0.922"},
    {Category::HostUnknown, "hostunknown", "5.0.912", "4.0.912"},
    {Category::Blocked, "blocked", "5.0.971", "4.0.971"},
    {Category::SpamDetected, "spamdetected", "5.0.980", "4.0.980"},
    {Category::PolicyViolation, "policyviolation", "5.0.972", "4.0.972"},
    {Category::SecurityError, "securityerror", "5.0.970", "4.0.970"},
    {Category::AuthFailure, "authfailure", "5.0.926", "4.0.926"},
    {Category::Expired, "expired", "5.0.947", "4.0.947"},
    {Category::MesgTooBig, "mesgtoobig", "5.0.934", "4.0.934"},
    {Category::ExceedLimit, "exceedlimit", "5.0.923", "4.0.923"},
    {Category::NoRelaying, "norelaying", "5.0.909", "4.0.909"},
    {Category::Speeding, "speeding", "5.0.946", "4.0.946"},
    {Category::TooManyConn, "toomanyconn", "5.0.945", "4.0.945"},
    {Category::Rejected, "rejected", "5.0.918", "4.0.918"},
    {Category::Suspend, "suspend", "5.0.921", "4.0.921"},
    {Category::SystemError, "systemerror", "5.0.930", "4.0.930"},
    {Category::SystemFull, "systemfull", "5.0.931", "4.0.931"},
    {Category::NetworkError, "networkerror", "5.0.944", "4.0.944"},
    {Category::ContentError, "contenterror", "5.0.960", "4.0.960"},
    {Category::VirusDetected, "virusdetected", "5.0.981", "4.0.981"},
    {Category::HasMoved, "hasmoved", "5.0.916", "4.0.916"},
    {Category::Filtered, "filtered", "5.0.910", "4.0.924"},
    {Category::NotAccept, "notaccept", "5.0.932", "4.0.932"},
    {Category::SyntaxError, "syntaxerror", "5.0.902", "4.0.902"},
    {Category::RequirePtr, "requireptr", "5.0.973", "4.0.973"},
    {Category::BadReputation, "badreputation", "5.0.975", "4.0.975"},
    {Category::NotCompliantRfc, "notcompliantrfc", "5.0.974", "4.0.974"},
    {Category::MailerError, "mailererror", "5.0.939", "4.0.939"},
    {Category::OnHold, "onhold", "5.0.901", "4.0.901"},
    {Category::FailedStartTls, "failedstarttls", "5.0.976", "4.0.976"},
    {Category::Suppressed, "suppressed", "5.0.903", "4.0.903"},
    {Category::Undefined, "undefined", "5.0.900", "4.0.900"},
    {Category::Delivered, "delivered", "", ""},
    {Category::Feedback, "feedback", "", ""},
    {Category::Vacation, "vacation", "", ""},
}};

constexpr std::array<Category, kCategories.size()> make_all() {
    std::array<Category, kCategories.size()> all{};
    for (std::size_t i = 0; i < kCategories.size(); ++i) {
        all[i] = kCategories[i].category;
    }
    return all;
}

constexpr std::array<Category, kCategories.size()> kAll = make_all();

const CategoryInfo* info(Category category) noexcept {
    for (const CategoryInfo& entry : kCategories) {
        if (entry.category == category) {
            return &entry;
        }
    }
    return nullptr;
}

}  // namespace

std::span<const Category> all_categories() noexcept {
    return kAll;
}

std::string_view to_string(Category category) noexcept {
    const CategoryInfo* found = info(category);
    return found != nullptr ? found->name : "undefined";
}

std::optional<Category> parse_category(std::string_view name) noexcept {
    for (const CategoryInfo& entry : kCategories) {
        if (util::iequals(entry.name, name)) {
            return entry.category;
        }
    }
    return std::nullopt;
}

std::string_view derived_status(Category category, bool permanent) noexcept {
    const CategoryInfo* found = info(category);
    if (found == nullptr) {
        return permanent ? "5.0.900" : "4.0.900";
    }
    return permanent ? found->permanent_status : found->transient_status;
}

}  // namespace mailwarden::explain
