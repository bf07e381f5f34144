// stats.hpp - what a miltload run measured: per-message latencies, final actions, errors;
// printed as a short text report or as JSON.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "miltload/options.hpp"

namespace mailwarden::bench {

/// One worker's measurements (no locking: each thread owns one, merged at the end).
struct WorkerStats {
    std::vector<double> latencies_ms;  ///< per completed message
    std::map<std::string, std::uint64_t> actions;
    std::uint64_t header_edits = 0;    ///< messages that got at least one header edit
    std::uint64_t header_matches = 0;  ///< messages with a header containing --expect-header
    std::uint64_t connections = 0;
    std::uint64_t errors = 0;
    std::vector<std::string> error_samples;  ///< first few error messages

    void add_error(std::string message);
    void merge(WorkerStats&& other);
};

/// The merged result of a run.
struct Report {
    WorkerStats totals;
    double seconds = 0;

    double messages_per_second() const;
    /// The q-quantile (0..1) of the latencies, nearest rank; 0 when there are none.
    double percentile(double q) const;
    std::string text(const Options& options) const;
    std::string json(const Options& options) const;
};

}  // namespace mailwarden::bench
