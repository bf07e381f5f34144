// privileges_test.cpp - started as root, the daemon opens its socket and then runs as the
// configured user, for good (all four uids), and still records events into its journal
// directory.
#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"

namespace mailwarden::testing {
namespace {

std::string status_line(pid_t pid, std::string_view key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key)) {
            return line;
        }
    }
    return {};
}

TEST(Privileges, RootDropsToTheConfiguredUserAfterBinding) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root (the daemon drops from root to 'nobody'); run as root";
    }
    const passwd* nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    auto daemon = Daemon::start(default_daemon_config() + "user: nobody\n");
    ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
    const pid_t pid = (*daemon)->process().pid();
    const std::string uid = std::to_string(nobody->pw_uid);
    const std::string want = "Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid;
    EXPECT_EQ(status_line(pid, "Uid:"), want);
    EXPECT_THAT(status_line(pid, "Groups:"), ::testing::Not(::testing::HasSubstr("\t0 ")))
        << "supplementary groups of root are gone";
    // Still serving after the switch.
    auto client = (*daemon)->connect();
    EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message);
}

TEST(Privileges, AnUnknownUserStopsStartUp) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root (the switch is only attempted as root)";
    }
    Daemon::Options options;
    options.start_timeout = std::chrono::seconds(3);
    auto daemon = Daemon::start(default_daemon_config() + "user: no-such-user-mw\n", options);
    ASSERT_FALSE(daemon.has_value());
    EXPECT_THAT(daemon.error().message, ::testing::HasSubstr("no such user 'no-such-user-mw'"));
}

}  // namespace
}  // namespace mailwarden::testing
