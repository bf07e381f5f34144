// main.cpp - miltload: a milter-protocol load generator speaking the MTA side as Postfix
// does (tests/support/milter_client). C threads, each holding one milter connection for K
// messages at a time, until N messages are done or T seconds have passed (whichever comes
// first); then messages/s,
// per-message latency percentiles, final actions and errors, as text or JSON.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "miltload/options.hpp"
#include "miltload/stats.hpp"
#include "miltload/workload.hpp"
#include "support/milter_client.hpp"

namespace mailwarden::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
    const Options& options;
    const Workload& workload;
    std::atomic<std::uint64_t> next_message{0};
    std::atomic<std::uint64_t> next_connection{0};
    std::atomic<bool> shown{false};
    Clock::time_point deadline;
};

// Claims the next message number, or false when the run is over (count or time).
bool claim(Shared& shared, std::uint64_t& n) {
    if (shared.options.seconds > 0 && Clock::now() >= shared.deadline) {
        return false;
    }
    n = shared.next_message.fetch_add(1);
    return n < shared.options.messages;
}

// Whether an added or changed header's "Name: value" contains `text`.
bool has_header_with(const testing::MessageResult& result, const std::string& text) {
    for (const auto& edit : result.header_edits) {
        if ((edit.name + ": " + edit.value).find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// --show-first: what the milter did to one message, for checking a set-up by eye.
void show(const testing::MessageResult& result) {
    std::string text = fmt::format("miltload: first message: {} at {}{}{}\n", result.final_action(),
                                   testing::to_string(result.decided_at),
                                   result.decisive.text.empty() ? "" : ": ", result.decisive.text);
    for (const auto& edit : result.header_edits) {
        text += fmt::format("  header {}: {}\n", edit.name, edit.value);
    }
    std::fputs(text.c_str(), stderr);
}

void worker(Shared& shared, WorkerStats& stats) {
    const auto timeout = std::chrono::milliseconds(shared.options.timeout_ms);
    std::uint64_t n = 0;
    bool have = claim(shared, n);
    while (have) {
        const std::uint64_t conn = shared.next_connection.fetch_add(1);
        auto client = testing::MilterClient::connect(shared.options.socket, timeout,
                                                     shared.options.client_nagle);
        if (!client) {
            stats.add_error("connect: " + client.error().message);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            have = claim(shared, n);  // the message is lost: count it as an error only
            continue;
        }
        ++stats.connections;
        client->set_timeout(timeout);
        client->set_write_buffer(shared.options.write_buffer);
        const auto info = shared.workload.client(conn);
        const auto macros = testing::PostfixMacros::defaults(info);
        std::string setup_error;
        if (auto r = client->negotiate(); !r) {
            setup_error = r.error().message;
        } else if (auto c = client->connect_stage(info, macros.connect); !c) {
            setup_error = c.error().message;
        } else if (auto h = client->helo(info.hostname, macros.helo); !h) {
            setup_error = h.error().message;
        }
        if (!setup_error.empty()) {
            stats.add_error("session setup: " + setup_error);
            have = claim(shared, n);
            continue;
        }
        for (int k = 0; have && k < shared.options.per_connection; ++k) {
            const auto message = shared.workload.message(n);
            const auto pm = shared.workload.macros(info, message);
            const auto start = Clock::now();
            auto result = client->send_message(message, pm);
            const auto stop = Clock::now();
            if (!result) {
                stats.add_error(fmt::format("message {}: {}", n, result.error().message));
                have = claim(shared, n);
                break;  // the connection is in an unknown state: open a new one
            }
            if (shared.options.show_first && !shared.shown.exchange(true)) {
                show(*result);
            }
            stats.latencies_ms.push_back(
                std::chrono::duration<double, std::milli>(stop - start).count());
            ++stats.actions[result->final_action()];
            if (!result->header_edits.empty()) {
                ++stats.header_edits;
            }
            if (!shared.options.expect_header.empty() &&
                has_header_with(*result, shared.options.expect_header)) {
                ++stats.header_matches;
            }
            have = claim(shared, n);
        }
        (void)client->quit();
    }
}

}  // namespace
}  // namespace mailwarden::bench

int main(int argc, char** argv) {
    using namespace mailwarden::bench;
    int exit_code = 0;
    const auto options = parse_options(argc, argv, exit_code);
    if (!options) {
        return exit_code;
    }
    auto workload = Workload::create(*options);
    if (!workload) {
        std::fprintf(stderr, "miltload: %s\n", workload.error().message.c_str());
        return 2;
    }
    Shared shared{*options, *workload, {}, {}, {}, {}};
    const auto start = Clock::now();
    shared.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(options->seconds));
    std::vector<WorkerStats> stats(static_cast<std::size_t>(options->connections));
    {
        std::vector<std::jthread> threads;
        for (auto& s : stats) {
            threads.emplace_back([&shared, &s] { worker(shared, s); });
        }
    }
    Report report;
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& s : stats) {
        report.totals.merge(std::move(s));
    }
    std::ranges::sort(report.totals.latencies_ms);
    const std::string out = options->json ? report.json(*options) : report.text(*options);
    std::fputs(out.c_str(), stdout);

    bool ok = report.totals.errors == 0;
    if (!options->expect.empty()) {
        const auto& a = report.totals.actions;
        const auto it = a.find(options->expect);
        const std::uint64_t got = it == a.end() ? 0 : it->second;
        if (got != report.totals.latencies_ms.size() || report.totals.latencies_ms.empty()) {
            std::fprintf(stderr, "miltload: expected every message to end with '%s'\n",
                         options->expect.c_str());
            ok = false;
        }
    }
    if (!options->expect_header.empty() &&
        (report.totals.header_matches != report.totals.latencies_ms.size() ||
         report.totals.latencies_ms.empty())) {
        std::fprintf(stderr, "miltload: expected every message to get a header with '%s'\n",
                     options->expect_header.c_str());
        ok = false;
    }
    return ok ? 0 : 1;
}
