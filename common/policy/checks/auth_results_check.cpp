// auth_results_check.cpp - the Authentication-Results header; see auth_results_check.hpp.
#include "policy/checks/auth_results_check.hpp"

#include <fmt/format.h>

#include "auth/results.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

namespace {

constexpr std::string_view kField = "Authentication-Results";

class AuthResultsRun final : public CheckRun {
  public:
    explicit AuthResultsRun(const AuthResultsCheck& check) : check_(check) {}

    Decision on(Stage stage, Transaction& tx) override {
        Decision d;
        if (stage == Stage::EndOfMessage) {
            d.headers = check_.edits(tx);
        }
        return d;
    }

  private:
    const AuthResultsCheck& check_;
};

}  // namespace

AuthResultsCheck::AuthResultsCheck(AuthResultsSettings settings) : settings_(std::move(settings)) {}

std::unique_ptr<CheckRun> AuthResultsCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<AuthResultsRun>(*this);
}

std::vector<HeaderEdit> AuthResultsCheck::edits(const Transaction& tx) const {
    std::vector<HeaderEdit> out;
    if (settings_.remove_forged) {
        // smfi_chgheader's index counts the fields of that name, from 1, as received.
        int index = 0;
        for (const auto& field : tx.message.headers) {
            if (!util::iequals(field.name, kField)) {
                continue;
            }
            ++index;
            if (auth::claims_authserv_id(field.value, settings_.authserv_id)) {
                out.push_back(HeaderEdit{HeaderEdit::Kind::Remove, field.name, "", index});
            }
        }
    }
    const auto& m = tx.message;
    if (!m.spf && !m.dkim_evaluated && !m.dmarc) {
        return out;  // nothing was checked (outbound mail, checks disabled)
    }
    auth::AuthSummary summary;
    summary.spf = m.spf;
    summary.dkim = m.dkim;
    summary.dkim_evaluated = m.dkim_evaluated;
    summary.dmarc = m.dmarc;
    out.push_back(HeaderEdit{HeaderEdit::Kind::Insert, std::string(kField),
                             auth::format_authentication_results(settings_.authserv_id, summary),
                             0});
    return out;
}

}  // namespace mailwarden::policy
