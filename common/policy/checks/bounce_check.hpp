// bounce_check.hpp - recognises a delivery report (DSN) passing through the milter,
// explains each failed or delayed recipient, records them as outgoing failures and
// rewrites the bounce so the sender reads the explanation first.
//
// Candidates are messages with the null sender: Postfix's own bounces through
// non_smtpd_milters (localhost, HELO localhost, MAIL FROM "" and only i/{mail_addr}/
// {rcpt_addr}), and bounces from remote servers for our senders. Only a candidate's body
// is buffered, up to max_bytes; a larger one is left untouched (and logged). At end of
// message the body is parsed (dsn::parse_dsn: RFC 3464 multipart/report or the text of a
// non-standard bounce); a recognised bounce or delay notice sets the transaction's
// MessageKind::DeliveryReport, which makes the composed verdict unable to reject, tempfail
// or discard it (Postfix would retry the bounce forever). The check itself only ever
// answers Continue. Parse or rewrite failures leave the bounce as it was and are logged.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "explain/catalog.hpp"
#include "policy/check.hpp"
#include "policy/outgoing_failure.hpp"

namespace mailwarden::policy {

/// Finds the SASL login that sent mail as `sender`, or "" when unknown. The hook for a
/// sender -> login memory (none exists yet: the default knows no login).
using LoginLookup = std::function<std::string(std::string_view sender)>;

/// How the bounce check behaves.
struct BounceCheckSettings {
    bool rewrite = true;                ///< replace the body with the explained one
    std::size_t max_bytes = 10u << 20;  ///< larger bounces are left untouched
    std::string header_name = "X-Mailwarden-Explanation";  ///< carries the category
    LoginLookup login_for_sender;                          ///< may be empty
    std::shared_ptr<OutgoingFailureSink> sink;             ///< may be null
};

/// The bounce check. Immutable and thread-safe; the catalog is shared.
class BounceCheck final : public Check {
  public:
    BounceCheck(std::shared_ptr<const explain::Catalog> catalog, BounceCheckSettings settings);

    std::string_view name() const override { return "bounce"; }
    StageMask stages() const override;
    std::unique_ptr<CheckRun> start(const Transaction& tx) const override;

    const explain::Catalog& catalog() const { return *catalog_; }
    const BounceCheckSettings& settings() const { return settings_; }

  private:
    std::shared_ptr<const explain::Catalog> catalog_;
    BounceCheckSettings settings_;
};

/// The message as the MTA holds it, rebuilt from the header fields the session kept and
/// the body: "Name:value" lines (values as received), CRLF, a blank line, the body.
std::string rebuild_message(const Transaction& tx, std::string_view body);

}  // namespace mailwarden::policy
