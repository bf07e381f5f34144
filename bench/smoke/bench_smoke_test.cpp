// bench_smoke_test.cpp - CTest `bench_smoke`: the real daemon on a free port, miltload for a
// few hundred messages at 4 connections, zero errors, and every message with the expected
// final action (accepted ones with the daemon's header; a blocked sender rejected).
#include <cstdlib>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace mailwarden::testing {
namespace {

std::filesystem::path miltload_binary() {
    if (const char* env = std::getenv("MW_MILTLOAD"); env != nullptr && *env != '\0') {
        return env;
    }
    return binary_dir() / "bench" / "miltload";
}

nlohmann::json run_miltload(const Daemon& daemon, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--socket", daemon.socket(), "-c", "4", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run(command(miltload_binary(), args), std::chrono::seconds(120));
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!r) {
        return {};
    }
    EXPECT_EQ(r->status, 0) << r->output;
    const auto json_start = r->output.find('{');
    if (json_start == std::string::npos) {
        ADD_FAILURE() << "no JSON in miltload output:\n" << r->output;
        return {};
    }
    return nlohmann::json::parse(r->output.substr(json_start), nullptr, false);
}

TEST(BenchSmoke, MiltloadAgainstTheDaemon) {
    auto d = Daemon::start(default_daemon_config());
    ASSERT_TRUE(d.has_value()) << d.error().message;

    const auto accepted = run_miltload(**d, {"-n", "300", "--per-connection", "10", "--ips", "50",
                                             "--logins", "20", "--expect", "accept"});
    ASSERT_FALSE(accepted.is_discarded());
    ASSERT_TRUE(accepted.contains("messages")) << accepted.dump(2);
    EXPECT_EQ(accepted["errors"], 0) << accepted.dump(2);
    EXPECT_EQ(accepted["messages"], 300) << accepted.dump(2);
    EXPECT_EQ(accepted["actions"]["accept"], 300) << accepted.dump(2);
    EXPECT_EQ(accepted["header_edits"], 300) << "every accepted message gets X-Mailwarden";

    const auto rejected =
        run_miltload(**d, {"-n", "100", "--sender", "blocked@remote.test", "--expect", "reject"});
    ASSERT_TRUE(rejected.contains("messages")) << rejected.dump(2);
    EXPECT_EQ(rejected["errors"], 0) << rejected.dump(2);
    EXPECT_EQ(rejected["actions"]["reject"], 100) << rejected.dump(2);

    EXPECT_TRUE((*d)->process().running()) << (*d)->log();
    EXPECT_EQ((*d)->stop(), 0) << (*d)->log();
}

}  // namespace
}  // namespace mailwarden::testing
