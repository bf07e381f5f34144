// dkim_check.cpp - the streaming DKIM check; see dkim_check.hpp.
#include "policy/checks/dkim_check.hpp"

#include <fmt/format.h>

#include <optional>

namespace mailwarden::policy {

namespace dkim = auth::dkim;

class DkimRun final : public CheckRun {
  public:
    DkimRun(const DkimCheck& check, bool active) : check_(check), active_(active) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (!active_) {
            return Decision::none();
        }
        if (stage == Stage::EndOfHeaders) {
            verifier_.emplace(*check_.resolver_, check_.settings_.verifier, check_.clock_->now());
            for (const auto& field : tx.message.headers) {
                verifier_->header(field.name, field.value);
            }
            verifier_->end_of_headers();
            return Decision::none();
        }
        if (stage != Stage::EndOfMessage || !verifier_) {
            return Decision::none();
        }
        tx.message.dkim = verifier_->finish();
        tx.message.dkim_evaluated = true;
        verifier_.reset();
        if (tx.message.headers_truncated) {
            // The session keeps a bounded number of fields; signatures over the rest
            // cannot be checked honestly.
            for (auto& r : tx.message.dkim) {
                if (r.result == dkim::Result::Pass) {
                    r.result = dkim::Result::PermError;
                    r.reason = "the message has too many header fields to verify";
                }
            }
        }
        Decision d;
        d.reason = DkimCheck::summary(tx.message.dkim);
        return d;
    }

    void on_body(std::span<const std::byte> chunk, Transaction& /*tx*/) override {
        if (verifier_) {
            verifier_->body(chunk);
        }
    }

  private:
    const DkimCheck& check_;
    bool active_;
    std::optional<dkim::Verifier> verifier_;
};

DkimCheck::DkimCheck(std::shared_ptr<dns::Resolver> resolver,
                     std::shared_ptr<const util::Clock> clock, DkimCheckSettings settings)
    : resolver_(std::move(resolver)), clock_(std::move(clock)), settings_(std::move(settings)) {}

std::unique_ptr<CheckRun> DkimCheck::start(const Transaction& tx) const {
    const bool active = tx.message.direction == Direction::Inbound || settings_.check_outbound;
    return std::make_unique<DkimRun>(*this, active);
}

std::string DkimCheck::summary(const std::vector<dkim::SignatureResult>& results) {
    if (results.empty()) {
        return "dkim=none (no signature)";
    }
    std::string out;
    for (const auto& r : results) {
        if (!out.empty()) {
            out += "; ";
        }
        out +=
            fmt::format("dkim={} d={} s={}", dkim::to_string(r.result),
                        r.domain.empty() ? "-" : r.domain, r.selector.empty() ? "-" : r.selector);
        if (r.result != dkim::Result::Pass && !r.reason.empty()) {
            out += fmt::format(" ({})", r.reason);
        }
    }
    return out;
}

}  // namespace mailwarden::policy
