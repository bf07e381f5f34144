// limiter_test.cpp - rules applied to messages through a MemoryBucketStore with a
// controlled clock: stages, recipient counting, exemptions, scope, overrides, the choice
// of the refusing limit, and the reply text.
#include "ratelimit/limiter.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/memory_buckets.hpp"
#include "support/fake_clock.hpp"

namespace mailwarden::ratelimit {
namespace {

using mailwarden::testing::FakeClock;
using namespace std::chrono_literals;

Rule rule(std::string name, std::vector<KeyPart> key, Counts counts, std::vector<Window> windows,
          Action action = Action::Tempfail) {
    Rule r;
    r.name = std::move(name);
    r.key = std::move(key);
    r.counts = counts;
    r.windows = std::move(windows);
    r.action = action;
    return r;
}

MessageFacts alice(std::vector<std::string> recipients = {"bob@example.org"}) {
    MessageFacts f;
    f.direction = Direction::Outbound;
    f.login = "alice";
    f.sender = "alice@example.com";
    f.client_ip = *util::IpAddress::parse("192.0.2.10");
    f.recipients = std::move(recipients);
    return f;
}

// 2026-01-01 14:30:00 UTC.
util::SystemTime afternoon() {
    return util::SystemTime{std::chrono::seconds{1767225600 + 14 * 3600 + 30 * 60}};
}

TEST(Limiter, ThirtyMessagesAMinuteThenTheExplainedTempfail) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter(
        {rule("outbound-login", {KeyPart::Login}, Counts::Messages, {{30, 1min}, {500, 24h}})},
        buckets);
    for (int i = 0; i < 30; ++i) {
        auto r = limiter.check(alice(), Stage::EndOfMessage, clock.now());
        ASSERT_TRUE(r.has_value());
        ASSERT_TRUE(r->allowed) << i;
        EXPECT_EQ(r->source, "local");
        EXPECT_EQ(r->limits.size(), 2u);
    }
    clock.advance(500ms);
    auto r = limiter.check(alice(), Stage::EndOfMessage, clock.now());
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->allowed);
    ASSERT_TRUE(r->refused.has_value());
    EXPECT_EQ(r->refused->rule, "outbound-login");
    EXPECT_EQ(r->refused->window, (Window{30, 1min}));
    EXPECT_EQ(r->refused->subject, "alice");
    EXPECT_EQ(r->refused->usage.used, 30);
    EXPECT_EQ(r->action, Action::Tempfail);
    EXPECT_EQ(r->retry_after, 1500ms);  // one unit comes back 2 s after the burst
    EXPECT_EQ(r->retry_at, afternoon() + 2s);
    ASSERT_TRUE(r->reply.has_value());
    EXPECT_EQ(r->reply->code, 451);
    EXPECT_EQ(r->reply->enhanced, "4.7.1");
    EXPECT_EQ(r->reply->text,
              "You have sent 30 messages in the last minute; the limit for your account is 30 "
              "per minute. Try again after 14:31 UTC.");
    // Nothing applies at RCPT for a message-counting rule.
    auto at_rcpt = limiter.check(alice(), Stage::Recipient, clock.now());
    EXPECT_TRUE(at_rcpt->allowed);
    EXPECT_TRUE(at_rcpt->limits.empty());
}

TEST(Limiter, RecipientsAreCountedAtRcptAndRefusedOnesAreNotCharged) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter(
        {rule("rcpt-per-login", {KeyPart::Login}, Counts::Recipients, {{40, 1h}}, Action::Reject)},
        buckets);
    int accepted = 0;
    for (int i = 0; i < 100; ++i) {
        auto r = limiter.check(alice({fmt::format("r{}@example.org", i)}), Stage::Recipient,
                               clock.now());
        ASSERT_TRUE(r.has_value());
        accepted += r->allowed ? 1 : 0;
    }
    EXPECT_EQ(accepted, 40);
    auto r = limiter.check(alice(), Stage::Recipient, clock.now());
    EXPECT_EQ(r->reply->code, 550);
    EXPECT_EQ(r->reply->enhanced, "5.7.1");
    EXPECT_EQ(r->reply->text,
              "You have sent mail to 40 recipients in the last hour; the limit for your account "
              "is 40 recipients per hour. Try again after 14:32 UTC.");  // T = 90 s
    // At end of message a recipient rule charges nothing more.
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->limits.empty());
    // One RCPT call with several recipients costs one unit each.
    clock.advance(1h);
    auto many = alice();
    many.recipients.assign(41, "x@example.org");
    EXPECT_FALSE(limiter.check(many, Stage::Recipient, clock.now())->allowed);
    many.recipients.resize(40);
    EXPECT_TRUE(limiter.check(many, Stage::Recipient, clock.now())->allowed);
}

TEST(Limiter, AMessageRefusedByOneRuleChargesNoOtherRule) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter({rule("per-login", {KeyPart::Login}, Counts::Messages, {{100, 1h}}),
                           rule("per-ip", {KeyPart::ClientIp}, Counts::Messages, {{2, 1h}})},
                          buckets);
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    for (int i = 0; i < 10; ++i) {
        auto r = limiter.check(alice(), Stage::EndOfMessage, clock.now());
        ASSERT_FALSE(r->allowed);
        EXPECT_EQ(r->refused->rule, "per-ip");
        EXPECT_EQ(r->reply->text,
                  "You have sent 2 messages in the last hour; the limit for your IP address is 2 "
                  "per hour. Try again after 15:00 UTC.");
    }
    auto preview = limiter.preview(alice(), clock.now());
    ASSERT_TRUE(preview.has_value());
    ASSERT_EQ(preview->limits.size(), 2u);
    EXPECT_EQ(preview->limits[0].usage.used, 2);  // per-login: the refused ones were not charged
    EXPECT_FALSE(preview->allowed);
}

TEST(Limiter, RecipientKeyedRulesHaveOneBucketPerDistinctRecipient) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    auto r = rule("inbound-rcpt", {KeyPart::Recipient}, Counts::Messages, {{2, 1min}});
    r.scope = Scope::Inbound;
    const Limiter limiter({r}, buckets);
    MessageFacts in;
    in.direction = Direction::Inbound;
    in.sender = "news@list.example";
    in.recipients = {"a@example.org", "A@EXAMPLE.ORG", "b@example.org"};
    const auto plan = limiter.plan(in, Stage::Recipient);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[0].usage.key, "inbound-rcpt:1m:a@example.org");
    EXPECT_EQ(plan[1].usage.key, "inbound-rcpt:1m:b@example.org");
    in.recipients = {"a@example.org"};
    EXPECT_TRUE(limiter.check(in, Stage::Recipient, clock.now())->allowed);
    EXPECT_TRUE(limiter.check(in, Stage::Recipient, clock.now())->allowed);
    auto refused = limiter.check(in, Stage::Recipient, clock.now());
    EXPECT_FALSE(refused->allowed);
    EXPECT_EQ(refused->reply->text,
              "This recipient has received 2 messages in the last minute; the limit for this "
              "recipient is 2 per minute. Try again after 14:31 UTC.");
    in.recipients = {"b@example.org"};
    EXPECT_TRUE(limiter.check(in, Stage::Recipient, clock.now())->allowed);
    // Outbound mail is out of this rule's scope.
    auto out = alice({"a@example.org"});
    EXPECT_TRUE(limiter.plan(out, Stage::Recipient).empty());
}

TEST(Limiter, ExemptionsScopeAndOverrides) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    auto r = rule("outbound-login", {KeyPart::Login}, Counts::Messages, {{1, 1min}});
    r.exempt_logins = {"Postmaster"};
    r.exempt_networks = {*util::Cidr::parse("10.0.0.0/8")};
    r.overrides["newsletter"] = {{3, 1min}};
    const Limiter limiter({r}, buckets);

    auto postmaster = alice();
    postmaster.login = "postmaster";
    EXPECT_TRUE(limiter.plan(postmaster, Stage::EndOfMessage).empty());
    auto internal = alice();
    internal.client_ip = *util::IpAddress::parse("10.1.2.3");
    EXPECT_TRUE(limiter.plan(internal, Stage::EndOfMessage).empty());
    auto inbound = alice();
    inbound.direction = Direction::Inbound;
    EXPECT_TRUE(limiter.plan(inbound, Stage::EndOfMessage).empty());
    auto anonymous = alice();
    anonymous.login.clear();
    EXPECT_TRUE(limiter.plan(anonymous, Stage::EndOfMessage).empty());

    auto news = alice();
    news.login = "Newsletter";
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(limiter.check(news, Stage::EndOfMessage, clock.now())->allowed);
    }
    EXPECT_FALSE(limiter.check(news, Stage::EndOfMessage, clock.now())->allowed);
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    EXPECT_FALSE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
}

TEST(Limiter, TheStrongestActionThenTheLongestWaitIsReported) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter(
        {rule("quarantine-ip", {KeyPart::ClientIp}, Counts::Messages, {{1, 1min}},
              Action::Quarantine),
         rule("day-login", {KeyPart::Login}, Counts::Messages, {{1, 1min}, {1, 24h}})},
        buckets);
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    auto r = limiter.check(alice(), Stage::EndOfMessage, clock.now());
    ASSERT_FALSE(r->allowed);
    EXPECT_EQ(r->action, Action::Tempfail);
    EXPECT_EQ(r->refused->rule, "day-login");
    EXPECT_EQ(r->refused->window.period, 24h);
    EXPECT_EQ(r->retry_after, 24h);
    EXPECT_EQ(r->reply->text,
              "You have sent 1 message in the last day; the limit for your account is 1 per day. "
              "Try again after 2026-01-02 14:30 UTC.");

    // Quarantine alone gives no reply: the message is accepted and held.
    store::MemoryBucketStore other;
    const Limiter q(
        {rule("q", {KeyPart::Sender}, Counts::Messages, {{1, 1min}}, Action::Quarantine)}, other);
    EXPECT_TRUE(q.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    auto held = q.check(alice(), Stage::EndOfMessage, clock.now());
    EXPECT_FALSE(held->allowed);
    EXPECT_EQ(held->action, Action::Quarantine);
    EXPECT_FALSE(held->reply.has_value());
}

TEST(Limiter, PreviewChargesNothing) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter({rule("per-login", {KeyPart::Login}, Counts::Messages, {{1, 1min}}),
                           rule("rcpts", {KeyPart::Login}, Counts::Recipients, {{5, 1min}})},
                          buckets);
    for (int i = 0; i < 5; ++i) {
        auto p = limiter.preview(alice(), clock.now());
        ASSERT_TRUE(p.has_value());
        EXPECT_TRUE(p->allowed);
        EXPECT_EQ(p->limits.size(), 2u);
        EXPECT_EQ(p->source, "memory");
    }
    EXPECT_EQ(buckets.size(), 0u);
    EXPECT_TRUE(limiter.check(alice(), Stage::EndOfMessage, clock.now())->allowed);
    auto p = limiter.preview(alice(), clock.now());
    EXPECT_FALSE(p->allowed);
    EXPECT_EQ(p->refused->rule, "per-login");
}

TEST(Limiter, TenThousandRecipientsInOneCallFailCleanly) {
    FakeClock clock(afternoon());
    store::MemoryBucketStore buckets;
    const Limiter limiter({rule("rcpt", {KeyPart::Recipient}, Counts::Messages, {{5, 1min}})},
                          buckets);
    auto f = alice();
    f.recipients.clear();
    for (int i = 0; i < 10'000; ++i) {
        f.recipients.push_back(fmt::format("user{}@example.org", i));
    }
    auto r = limiter.check(f, Stage::Recipient, clock.now());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, util::ErrorCode::InvalidInput);
    EXPECT_EQ(buckets.size(), 0u);
    // Counting rules take them as one bucket with cost 10,000.
    const Limiter counting({rule("count", {KeyPart::Login}, Counts::Recipients, {{5000, 1h}})},
                           buckets);
    auto c = counting.check(f, Stage::Recipient, clock.now());
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->allowed);
    EXPECT_TRUE(c->refused->usage.over_capacity);
}

TEST(PeriodWords, SingularAndPlural) {
    EXPECT_EQ(period_words(1min), "minute");
    EXPECT_EQ(period_words(5min), "5 minutes");
    EXPECT_EQ(period_words(24h), "day");
    EXPECT_EQ(period_words(90s), "90 seconds");
    EXPECT_EQ(period_words(7 * 24h), "week");
}

}  // namespace
}  // namespace mailwarden::ratelimit
