// account_detector_test.cpp - the detector's scoring: floors for a login without history,
// its own baseline for a heavy one, the text and figures of a hold, threshold validation.
#include "ratelimit/account_detector.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/matchers.hpp"

namespace mailwarden::ratelimit {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;

TEST(AccountDetector, ThresholdsAreValidated) {
    DetectorSettings s;
    EXPECT_THAT(validate(s), IsOk());
    s.volume.multiple = 0;
    EXPECT_THAT(validate(s), HasError(util::ErrorCode::InvalidInput));
}

TEST(AccountDetector, ANewLoginIsJudgedAgainstTheFloors) {
    store::AccountSnapshot a;
    a.window.messages = 49;
    DetectorSettings s;
    EXPECT_EQ(assess(a, s, std::chrono::hours(1)).score, 0);
    a.window.messages = 50;  // >= min 50 and >= 10 x floor 5
    auto r = assess(a, s, std::chrono::hours(1));
    EXPECT_EQ(r.score, 2);
    EXPECT_FALSE(r.hold);
    EXPECT_EQ(r.reason(), "50 messages this hour, 10x the usual 5.0");
    a.window.new_domains = 60;
    r = assess(a, s, std::chrono::hours(1));
    EXPECT_EQ(r.score, 4);
    EXPECT_TRUE(r.hold);
    EXPECT_THAT(r.figures(4),
                ::testing::HasSubstr(R"("new_domains":{"points":2,"usual":5.0,"value":60.0})"));
}

TEST(AccountDetector, AHeavyLoginIsJudgedAgainstItsOwnBaseline) {
    store::AccountSnapshot a;
    a.baseline.weight = 10;
    a.baseline.messages = 10 * 400;  // 400 an hour usually
    a.window.messages = 1000;        // 2.5x: not anomalous for this login
    DetectorSettings s;
    EXPECT_EQ(assess(a, s, std::chrono::hours(1)).score, 0);
    a.window.messages = 4000;
    EXPECT_EQ(assess(a, s, std::chrono::hours(1)).score, 2);
}

}  // namespace
}  // namespace mailwarden::ratelimit
