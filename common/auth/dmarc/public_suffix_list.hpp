// public_suffix_list.hpp - the RFC 7489 §3.2 Organizational Domain by a Public Suffix List
// (libpsl), for sites that configure OrgDomainMethod::PublicSuffixList.
//
// The registrable domain (public suffix + one label) is the Organizational Domain. Loaded
// once, read-only afterwards: lookups are thread-safe. Never throws.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace mailwarden::auth::dmarc {

class PublicSuffixList {
  public:
    /// Loads `file` (publicsuffix.org format). An empty path takes libpsl's newest list (the
    /// distribution file or the built-in data). nullopt with `error` set when nothing loads.
    static std::optional<PublicSuffixList> load(const std::filesystem::path& file,
                                                std::string* error = nullptr);
    ~PublicSuffixList();
    PublicSuffixList(PublicSuffixList&&) noexcept;
    PublicSuffixList& operator=(PublicSuffixList&&) noexcept;

    /// The registrable domain of `domain` (lower case, no trailing dot), or nullopt when
    /// `domain` is a public suffix itself, is empty or has an empty label (".example.com").
    /// Letter case is ignored (Unicode too); U-labels and A-labels are both understood.
    std::optional<std::string> registrable_domain(std::string_view domain) const;

  private:
    PublicSuffixList(psl_ctx_st* owned, const psl_ctx_st* ctx);
    struct Free {
        void operator()(psl_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<psl_ctx_st, Free> owned_;
    const psl_ctx_st* ctx_ = nullptr;
};

}  // namespace mailwarden::auth::dmarc
