// pipeline.hpp - the checks of one config snapshot, run stage by stage for a message.
//
// Early stages (connect, helo, mail) end the transaction on a refusal; at rcpt a refusal
// refuses that recipient only; everything else is remembered and decided at end of
// message, where the final verdict is composed from all stages' decisions. An Accept with
// `final` stops the later checks for the rest of the message.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "policy/check.hpp"
#include "policy/verdict.hpp"

namespace mailwarden::policy {

class PipelineRun;

/// Immutable list of checks; shared by all connections of one config snapshot.
class Pipeline {
  public:
    explicit Pipeline(std::vector<CheckPtr> checks);

    /// The union of the stages the checks want (the session negotiates the rest away).
    StageMask stages() const noexcept { return stages_; }
    /// The checks, in order.
    std::span<const CheckPtr> checks() const noexcept { return checks_; }
    /// Per-message state; call at MAIL FROM (or earlier for connect/helo checks).
    std::unique_ptr<PipelineRun> start(const Transaction& tx) const;

  private:
    std::vector<CheckPtr> checks_;
    StageMask stages_;
};

/// Per-message state of the pipeline. Used from one thread.
class PipelineRun {
  public:
    PipelineRun(std::span<const CheckPtr> checks, const Transaction& tx);

    /// Runs the checks that want `stage` and composes their decisions. At Rcpt the verdict
    /// concerns the current recipient; at EndOfMessage it is the message's final verdict,
    /// including the remembered decisions of earlier stages. At Header and EndOfHeaders
    /// (no-reply stages) every decision is kept for end of message and the verdict is empty.
    Verdict run(Stage stage, Transaction& tx);
    /// Feeds a body chunk to the checks that want Stage::Body.
    void body(std::span<const std::byte> chunk, Transaction& tx);

  private:
    struct Entry {
        CheckPtr check;
        std::unique_ptr<CheckRun> run;
    };
    std::vector<Entry> entries_;
    std::vector<Decision> remembered_;  ///< non-refusing decisions of earlier stages
    bool stopped_ = false;              ///< a final Accept was given
};

}  // namespace mailwarden::policy
