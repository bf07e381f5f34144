// stats.cpp - percentiles and the two output formats.
//
// Latencies are per message, from the MAIL packet to the final end-of-message reply
// (connection setup excluded, counted apart); percentiles use the nearest rank on the
// sorted, merged samples of all workers.
#include "miltload/stats.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mailwarden::bench {

void WorkerStats::add_error(std::string message) {
    ++errors;
    if (error_samples.size() < 5) {
        error_samples.push_back(std::move(message));
    }
}

void WorkerStats::merge(WorkerStats&& other) {
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(), other.latencies_ms.end());
    for (const auto& [action, count] : other.actions) {
        actions[action] += count;
    }
    header_edits += other.header_edits;
    header_matches += other.header_matches;
    connections += other.connections;
    errors += other.errors;
    for (auto& e : other.error_samples) {
        if (error_samples.size() < 5) {
            error_samples.push_back(std::move(e));
        }
    }
}

double Report::messages_per_second() const {
    return seconds > 0 ? static_cast<double>(totals.latencies_ms.size()) / seconds : 0;
}

double Report::percentile(double q) const {
    const auto& v = totals.latencies_ms;  // sorted by the caller (main) before reporting
    if (v.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

std::string Report::text(const Options& o) const {
    std::string out = fmt::format(
        "miltload: {} messages in {:.2f} s, {} connections ({} messages each), {} opened\n"
        "  throughput   {:.1f} messages/s\n"
        "  latency ms   p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}\n"
        "  actions     ",
        totals.latencies_ms.size(), seconds, o.connections, o.per_connection, totals.connections,
        messages_per_second(), percentile(0.50), percentile(0.90), percentile(0.99),
        percentile(1.0));
    for (const auto& [action, count] : totals.actions) {
        out += fmt::format(" {} {}", action, count);
    }
    out += fmt::format("\n  header edits {}\n", totals.header_edits);
    if (!o.expect_header.empty()) {
        out += fmt::format("  with '{}'  {}\n", o.expect_header, totals.header_matches);
    }
    out += fmt::format("  errors       {}\n", totals.errors);
    for (const auto& e : totals.error_samples) {
        out += "    " + e + "\n";
    }
    return out;
}

std::string Report::json(const Options& o) const {
    nlohmann::json j;
    j["socket"] = o.socket;
    j["connections"] = o.connections;
    j["per_connection"] = o.per_connection;
    j["connections_opened"] = totals.connections;
    j["messages"] = totals.latencies_ms.size();
    j["seconds"] = seconds;
    j["messages_per_second"] = messages_per_second();
    j["latency_ms"] = {{"p50", percentile(0.50)},
                       {"p90", percentile(0.90)},
                       {"p99", percentile(0.99)},
                       {"max", percentile(1.0)}};
    j["actions"] = totals.actions;
    j["header_edits"] = totals.header_edits;
    if (!o.expect_header.empty()) {
        j["expect_header"] = o.expect_header;
        j["header_matches"] = totals.header_matches;
    }
    j["errors"] = totals.errors;
    j["error_samples"] = totals.error_samples;
    return j.dump(2) + "\n";
}

}  // namespace mailwarden::bench
