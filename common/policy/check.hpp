// check.hpp - the interface every check implements.
//
// A Check is immutable and shared by all connections; it is built from a config snapshot.
// For each message the pipeline calls start() and gets a CheckRun that holds the
// per-message state. Checks never call libmilter and never talk to each other except
// through typed outcomes in the Transaction.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "policy/decision.hpp"
#include "policy/stage.hpp"
#include "policy/transaction.hpp"

namespace mailwarden::policy {

/// Per-message state of one check. Called from one thread at a time.
class CheckRun {
  public:
    virtual ~CheckRun() = default;
    /// Called at each stage the check asked for; returns its decision at that stage.
    virtual Decision on(Stage stage, Transaction& tx) = 0;
    /// Called for each body chunk when the check asked for Stage::Body.
    virtual void on_body(std::span<const std::byte> /*chunk*/, Transaction& /*tx*/) {}
};

/// A check: immutable, shared, thread-safe.
class Check {
  public:
    virtual ~Check() = default;
    /// Name used in logs, events and config ("access_list", "spf", ...).
    virtual std::string_view name() const = 0;
    /// The stages at which this check wants to be called.
    virtual StageMask stages() const = 0;
    /// New per-message state. Never null.
    virtual std::unique_ptr<CheckRun> start(const Transaction& tx) const = 0;
};

using CheckPtr = std::shared_ptr<const Check>;

}  // namespace mailwarden::policy
