// event_test.cpp - Event's two encodings (stream fields, JSON) and time formats.
#include "store/event.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/matchers.hpp"

namespace mailwarden::store {
namespace {

using mailwarden::testing::HasError;
using mailwarden::testing::IsOkAndHolds;
using util::ErrorCode;

util::SystemTime at_ms(std::int64_t ms) {
    return util::SystemTime{std::chrono::milliseconds{ms}};
}

Event full_event() {
    Event e;
    e.time = at_ms(1'795'450'904'123);
    e.id = "";
    e.kind = "decision";
    e.queue_id = "4XyZ1b2C3d";
    e.direction = "outbound";
    e.stage = "rcpt";
    e.check = "access_list";
    e.action = "reject";
    e.reply_code = 550;
    e.enhanced_code = "5.7.1";
    e.reply_text = "Access denied / see https://example.org";
    e.reason = "sender blocked";
    e.category = "policy";
    e.sender = "Alice@Example.org";
    e.login = "alice";
    e.client_address = "192.0.2.7";
    e.client_name = "mail.example.org";
    e.helo = "mail.example.org";
    e.remote_host = "mx.example.net";
    e.recipients = {"bob@example.net", "\"odd,local\\\\part\"@example.net", "carol@example.net"};
    e.node = "mta1";
    return e;
}

TEST(EventFields, RoundTripsEveryField) {
    const Event e = full_event();
    EXPECT_THAT(from_fields(to_fields(e)), IsOkAndHolds(e));
}

TEST(EventFields, LeavesEmptyFieldsOutAndKeepsTimeInMilliseconds) {
    Event e;
    e.time = at_ms(1000);
    e.kind = "decision";
    e.action = "quarantine";
    const auto fields = to_fields(e);
    const std::vector<std::pair<std::string, std::string>> want = {
        {"time", "1000"}, {"kind", "decision"}, {"action", "quarantine"}};
    EXPECT_EQ(fields, want);
    EXPECT_THAT(from_fields(fields), IsOkAndHolds(e));
}

TEST(EventFields, JoinsRecipientsWithCommasEscapingOddOnes) {
    Event e = full_event();
    e.recipients = {"a@x", "b,c@y", "d\\e@z"};
    std::string joined;
    for (const auto& [k, v] : to_fields(e)) {
        if (k == "recipients") {
            joined = v;
        }
    }
    EXPECT_EQ(joined, "a@x,b\\,c@y,d\\\\e@z");
    EXPECT_THAT(from_fields(to_fields(e)), IsOkAndHolds(e));
}

TEST(EventFields, RejectsBadTimeAndCodeButIgnoresUnknownFields) {
    EXPECT_THAT(from_fields({{"kind", "decision"}}), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(from_fields({{"time", "12x"}}), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(from_fields({{"time", ""}}), HasError(ErrorCode::InvalidInput));
    EXPECT_THAT(from_fields({{"time", "5"}, {"reply_code", "abc"}}),
                HasError(ErrorCode::InvalidInput));
    auto e = from_fields({{"time", "5"}, {"future_field", "x"}, {"kind", "decision"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->time, at_ms(5));
    EXPECT_EQ(e->kind, "decision");
}

TEST(EventJson, RoundTripsEveryFieldIncludingId) {
    Event e = full_event();
    e.id = "1795450904123-0";
    const auto json = to_json(e);
    EXPECT_EQ(json["time"], "2026-11-23T16:21:44.123Z");
    EXPECT_EQ(json["time_ms"], 1'795'450'904'123);
    EXPECT_THAT(from_json(json), IsOkAndHolds(e));
    // through text, as the journal and `mailwardenctl events --json` use it
    EXPECT_THAT(from_json(nlohmann::json::parse(json.dump())), IsOkAndHolds(e));
}

TEST(EventJson, AcceptsRfc3339TimeWhenTimeMsIsAbsent) {
    auto e = from_json(nlohmann::json{{"time", "2026-11-23T17:21:44.5+01:00"}, {"kind", "d"}});
    ASSERT_TRUE(e.has_value()) << e.error().describe();
    EXPECT_EQ(to_unix_ms(e->time), 1'795'450'904'500);
}

TEST(EventJson, RejectsWrongShapesWithInvalidInput) {
    const nlohmann::json cases[] = {
        nlohmann::json::array(),
        nlohmann::json{{"kind", "decision"}},
        nlohmann::json{{"time_ms", "12"}},
        nlohmann::json{{"time", "yesterday"}},
        nlohmann::json{{"time_ms", 1}, {"sender", 5}},
        nlohmann::json{{"time_ms", 1}, {"reply_code", "550"}},
        nlohmann::json{{"time_ms", 1}, {"recipients", "a@x"}},
        nlohmann::json{{"time_ms", 1}, {"recipients", {1, 2}}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.dump());
        EXPECT_THAT(from_json(c), HasError(ErrorCode::InvalidInput));
    }
}

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(to_rfc3339(at_ms(0)), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(to_rfc3339(at_ms(1'767'225'600'007)), "2026-01-01T00:00:00.007Z");
    EXPECT_EQ(to_rfc3339(at_ms(951'782'400'000)), "2000-02-29T00:00:00.000Z");
}

TEST(Rfc3339, ParsesWhatItFormatsAndOffsets) {
    for (std::int64_t ms : {0LL, 1'767'225'600'007LL, 951'782'400'000LL, 1'795'450'904'123LL}) {
        SCOPED_TRACE(ms);
        EXPECT_THAT(parse_rfc3339(to_rfc3339(at_ms(ms))), IsOkAndHolds(at_ms(ms)));
    }
    EXPECT_THAT(parse_rfc3339("2026-01-01T02:00:00+02:00"), IsOkAndHolds(at_ms(1'767'225'600'000)));
    EXPECT_THAT(parse_rfc3339("2025-12-31t23:00:00-01:00"), IsOkAndHolds(at_ms(1'767'225'600'000)));
}

TEST(Rfc3339, RejectsMalformedText) {
    const char* cases[] = {"",
                           "2026-01-01",
                           "2026-01-01T00:00:00",
                           "2026-02-30T00:00:00Z",
                           "2026-01-01T24:00:00Z",
                           "2026-01-01T00:00:00.Z",
                           "2026-01-01T00:00:00Zjunk",
                           "2026-01-01T00:00:00+0100",
                           "26-01-01T00:00:00Z"};
    for (const char* c : cases) {
        SCOPED_TRACE(c);
        EXPECT_THAT(parse_rfc3339(c), HasError(ErrorCode::InvalidInput));
    }
}

}  // namespace
}  // namespace mailwarden::store
