#include "policy/pipeline.hpp"

namespace mailwarden::policy {

Pipeline::Pipeline(std::vector<CheckPtr> checks) : checks_(std::move(checks)) {
    for (const auto& check : checks_) {
        stages_ |= check->stages();
    }
}

std::unique_ptr<PipelineRun> Pipeline::start(const Transaction& tx) const {
    return std::make_unique<PipelineRun>(checks_, tx);
}

PipelineRun::PipelineRun(std::span<const CheckPtr> checks, const Transaction& tx) {
    entries_.reserve(checks.size());
    for (const auto& check : checks) {
        entries_.push_back(Entry{check, check->start(tx)});
    }
}

Verdict PipelineRun::run(Stage stage, Transaction& tx) {
    std::vector<Decision> decisions;
    if (stage == Stage::EndOfMessage) {
        decisions = remembered_;
    }
    for (auto& entry : entries_) {
        if (stopped_) {
            break;
        }
        if (!entry.check->stages().has(stage)) {
            continue;
        }
        Decision d = entry.run->on(stage, tx);
        d.check = std::string(entry.check->name());
        if (d.action == Action::Accept && d.final && !d.warn_only) {
            stopped_ = true;
        }
        decisions.push_back(std::move(d));
    }
    // At end of message the bounce check has said whether this is a delivery report.
    Verdict verdict =
        compose(decisions, stage == Stage::EndOfMessage ? tx.message.kind : MessageKind::Ordinary);
    // The MTA waits for no answer at header and body stages: what is decided there, a
    // refusal included, takes effect at end of message.
    const bool answerable =
        stage != Stage::Header && stage != Stage::EndOfHeaders && stage != Stage::Body;
    if (!answerable) {
        remembered_.insert(remembered_.end(), decisions.begin(), decisions.end());
        return Verdict{};
    }
    if (stage != Stage::EndOfMessage && !verdict.refuses()) {
        // Quarantine, discard and header edits wait for end of message.
        // A warn-only decision was recorded at its own stage; only its headers carry on.
        for (auto& d : decisions) {
            if (d.warn_only) {
                d.action = Action::Continue;
                d.warn_only = false;
                d.reason.clear();
            }
            if (d.action != Action::Continue || !d.headers.empty()) {
                remembered_.push_back(std::move(d));
            }
        }
    }
    return verdict;
}

void PipelineRun::body(std::span<const std::byte> chunk, Transaction& tx) {
    for (auto& entry : entries_) {
        if (entry.check->stages().has(Stage::Body)) {
            entry.run->on_body(chunk, tx);
        }
    }
}

}  // namespace mailwarden::policy
