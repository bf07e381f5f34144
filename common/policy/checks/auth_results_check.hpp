// auth_results_check.hpp - writes one Authentication-Results header (RFC 8601) with what
// the SPF, DKIM and DMARC checks before it recorded, and removes incoming fields that claim
// this server's authserv-id (forged, RFC 8601 §5). Runs at end of message, after the
// authentication checks in the pipeline. Never refuses mail.
#pragma once

#include <string>

#include "policy/check.hpp"

namespace mailwarden::policy {

/// What the Authentication-Results check does; config `authentication_results:`.
struct AuthResultsSettings {
    std::string authserv_id;    ///< the name this host writes and recognises as its own
    bool remove_forged = true;  ///< remove incoming fields that claim authserv_id
};

/// The Authentication-Results check.
class AuthResultsCheck final : public Check {
  public:
    explicit AuthResultsCheck(AuthResultsSettings settings);

    std::string_view name() const override { return "authentication_results"; }
    StageMask stages() const override { return {Stage::Header, Stage::EndOfMessage}; }
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    /// The header edits for the message in `tx`: removals of forged fields, then ours
    /// (inserted at the top) when any authentication check ran.
    std::vector<HeaderEdit> edits(const Transaction& tx) const;

  private:
    AuthResultsSettings settings_;
};

}  // namespace mailwarden::policy
