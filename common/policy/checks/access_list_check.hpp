// access_list_check.hpp - block or allow mail by sender, recipient, client network or HELO
// name, with the reply text taken from config.
//
// Sender, client and HELO rules are decided at MAIL FROM (so that the client sees our
// reply text; Postfix replaces a connect-stage reply with its own), recipient rules at
// RCPT for that recipient only. Rules are tried in config order; the first match decides.
// An allow ends the access list for the rest of the message.
#pragma once

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "policy/check.hpp"

namespace mailwarden::policy {

/// True when `address` (lower-cased "local@domain", or "" for the null sender) matches a
/// pattern: "user@example.com" exactly, "@example.com" or "example.com" any local part of
/// that domain, ".example.com" any subdomain, "user@" that local part anywhere, "<>" the
/// null sender.
bool address_matches(std::string_view pattern, std::string_view address);

/// True when `name` (a HELO name, lower-cased) equals the pattern, or ends with it when the
/// pattern starts with '.'.
bool host_matches(std::string_view pattern, std::string_view name);

/// The access-list check.
class AccessListCheck final : public Check {
  public:
    explicit AccessListCheck(std::vector<config::AccessRule> rules);

    std::string_view name() const override { return "access_list"; }
    StageMask stages() const override { return {Stage::MailFrom, Stage::Rcpt}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The decision for a matching rule, with the reply text's placeholders ({sender},
    /// {recipient}, {client}, {helo}) filled from `tx`.
    Decision decide(const config::AccessRule& rule, const Transaction& tx,
                    std::string_view matched) const;
    const std::vector<config::AccessRule>& rules() const noexcept { return rules_; }

  private:
    std::vector<config::AccessRule> rules_;
};

}  // namespace mailwarden::policy
