// public_suffix_list.cpp - libpsl behind PublicSuffixList; see the header.
#include "auth/dmarc/public_suffix_list.hpp"

#include <libpsl.h>

#include <cstdlib>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::auth::dmarc {

void PublicSuffixList::Free::operator()(psl_ctx_st* ctx) const noexcept {
    psl_free(ctx);
}

PublicSuffixList::PublicSuffixList(psl_ctx_st* owned, const psl_ctx_st* ctx)
    : owned_(owned), ctx_(ctx) {}
PublicSuffixList::~PublicSuffixList() = default;
PublicSuffixList::PublicSuffixList(PublicSuffixList&&) noexcept = default;
PublicSuffixList& PublicSuffixList::operator=(PublicSuffixList&&) noexcept = default;

std::optional<PublicSuffixList> PublicSuffixList::load(const std::filesystem::path& file,
                                                       std::string* error) {
    if (file.empty()) {
        if (psl_ctx_t* latest = psl_latest(nullptr)) {
            return PublicSuffixList(latest, latest);
        }
        if (const psl_ctx_t* builtin = psl_builtin()) {
            return PublicSuffixList(nullptr, builtin);
        }
        if (error != nullptr) {
            *error = "libpsl has no built-in Public Suffix List and no distribution file";
        }
        return std::nullopt;
    }
    psl_ctx_t* ctx = psl_load_file(file.c_str());
    if (ctx == nullptr) {
        if (error != nullptr) {
            *error = fmt::format("{}: cannot load the Public Suffix List", file.string());
        }
        return std::nullopt;
    }
    return PublicSuffixList(ctx, ctx);
}

std::optional<std::string> PublicSuffixList::registrable_domain(std::string_view domain) const {
    if (!domain.empty() && domain.back() == '.') {
        domain.remove_suffix(1);
    }
    if (domain.empty() || domain.front() == '.' || domain.find("..") != std::string_view::npos ||
        domain.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string lower;
    char* converted = nullptr;
    const std::string input(domain);
    if (psl_str_to_utf8lower(input.c_str(), "utf-8", nullptr, &converted) == PSL_SUCCESS &&
        converted != nullptr) {
        lower = converted;
        psl_free_string(converted);
    } else {
        lower = util::to_lower(domain);  // libpsl built without a Unicode library
    }
    const char* registrable = psl_registrable_domain(ctx_, lower.c_str());
    if (registrable == nullptr) {
        return std::nullopt;
    }
    return std::string(registrable);
}

}  // namespace mailwarden::auth::dmarc
