// store_contract.hpp - the behaviour every Store promises, as one typed suite. A backend
// instantiates it with a Backend type providing:
//   static std::optional<std::string> skip_reason();  // nullopt when it can run
//   static void set_up_suite(); static void tear_down_suite();
//   std::shared_ptr<Store> make(std::shared_ptr<const util::Clock> clock);  // a fresh, empty store
// memory_store_test.cpp runs it on MemoryStore, integration/store on RedisStore.
#pragma once

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "support/fake_clock.hpp"
#include "support/matchers.hpp"

namespace mailwarden::store::contract {

using mailwarden::testing::IsOk;

/// 2026-01-01T00:00:00Z, the FakeClock's default start.
inline util::SystemTime base_time() {
    return util::SystemTime{std::chrono::seconds{1767225600}};
}

/// A reject event at base_time() + `offset` with a distinct queue id.
inline Event sample_event(int n, std::chrono::milliseconds offset = {}) {
    Event e;
    e.time = base_time() + offset;
    e.kind = "decision";
    e.queue_id = "Q" + std::to_string(n);
    e.direction = n % 2 == 0 ? "inbound" : "outbound";
    e.stage = "rcpt";
    e.check = "access_list";
    e.action = "reject";
    e.reply_code = 550;
    e.enhanced_code = "5.7.1";
    e.reply_text = "Access denied";
    e.sender = "sender" + std::to_string(n % 3) + "@example.org";
    e.login = n % 2 == 0 ? "" : "user" + std::to_string(n % 3);
    e.client_address = "192.0.2." + std::to_string(n % 250);
    e.recipients = {"rcpt" + std::to_string(n) + "@example.net"};
    e.node = "mta1";
    return e;
}

inline std::vector<std::string> queue_ids(const std::vector<Event>& events) {
    std::vector<std::string> ids;
    for (const auto& e : events) {
        ids.push_back(e.queue_id);
    }
    return ids;
}

template <class Backend>
class StoreContract : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { Backend::set_up_suite(); }
    static void TearDownTestSuite() { Backend::tear_down_suite(); }

    void SetUp() override {
        if (auto why = Backend::skip_reason()) {
            GTEST_SKIP() << *why;
        }
        clock_ = std::make_shared<mailwarden::testing::FakeClock>(base_time());
        store_ = backend_.make(clock_);
        ASSERT_NE(store_, nullptr);
    }

    /// Appends events 0..n-1, one millisecond apart, in batches of `batch`.
    void append_range(int n, std::size_t batch = 100) {
        std::vector<Event> events;
        for (int i = 0; i < n; ++i) {
            events.push_back(sample_event(i, std::chrono::milliseconds{i}));
            if (events.size() == batch) {
                ASSERT_THAT(store_->append_events(events), IsOk());
                events.clear();
            }
        }
        ASSERT_THAT(store_->append_events(events), IsOk());
    }

    Backend backend_;
    std::shared_ptr<mailwarden::testing::FakeClock> clock_;
    std::shared_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, AnswersPingAndNamesItsKind) {
    EXPECT_THAT(this->store_->ping(), IsOk());
    EXPECT_FALSE(this->store_->kind().empty());
}

TYPED_TEST_P(StoreContract, StartsEmpty) {
    auto events = this->store_->query_events({});
    ASSERT_THAT(events, IsOk());
    EXPECT_TRUE(events->empty());
    auto counts = this->store_->code_counts(base_time());
    ASSERT_THAT(counts, IsOk());
    EXPECT_TRUE(counts->empty());
    EXPECT_THAT(this->store_->append_events({}), IsOk());
}

TYPED_TEST_P(StoreContract, ReturnsEveryFieldNewestFirstWithDistinctIds) {
    std::vector<Event> in = {sample_event(1), sample_event(2), sample_event(3)};
    in[1].reason = "listed";
    in[1].category = "policy";
    in[1].remote_host = "mx.example.net";
    in[1].client_name = "client.example.org";
    in[1].helo = "helo.example.org";
    in[1].recipients = {"a@x", "b,c@y"};
    in[2].sender = "";  // the null sender
    ASSERT_THAT(this->store_->append_events(in), IsOk());
    auto out = this->store_->query_events({});
    ASSERT_THAT(out, IsOk());
    ASSERT_EQ(out->size(), 3u);
    std::reverse(in.begin(), in.end());
    for (std::size_t i = 0; i < in.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_FALSE((*out)[i].id.empty());
        Event got = (*out)[i];
        got.id.clear();
        EXPECT_EQ(got, in[i]);
    }
    EXPECT_NE((*out)[0].id, (*out)[1].id);
    EXPECT_NE((*out)[1].id, (*out)[2].id);
}

TYPED_TEST_P(StoreContract, FiltersBySenderLoginCodeQueueIdAndTime) {
    std::vector<Event> in;
    for (int i = 0; i < 12; ++i) {
        in.push_back(sample_event(i, std::chrono::minutes{i}));
    }
    in[4].reply_code = 451;
    in[4].enhanced_code = "4.7.1";
    in[4].action = "tempfail";
    in[5].sender = "";  // the null sender, MAIL FROM:<>
    ASSERT_THAT(this->store_->append_events(in), IsOk());
    const auto ids = [&](EventQuery q) {
        auto out = this->store_->query_events(q);
        EXPECT_THAT(out, IsOk());
        return out ? queue_ids(*out) : std::vector<std::string>{};
    };
    using V = std::vector<std::string>;
    EventQuery q;
    q.sender = "SENDER1@example.org";
    EXPECT_EQ(ids(q), (V{"Q10", "Q7", "Q4", "Q1"}));
    q.sender = "";
    EXPECT_EQ(ids(q), (V{"Q5"}));
    q = {};
    q.login = "user2";
    EXPECT_EQ(ids(q), (V{"Q11", "Q5"}));
    q = {};
    q.code = "4.7";
    EXPECT_EQ(ids(q), (V{"Q4"}));
    q.code = "451";
    EXPECT_EQ(ids(q), (V{"Q4"}));
    q.code = "550 5.7.1";
    EXPECT_EQ(ids(q).size(), 11u);
    q = {};
    q.queue_id = "Q9";
    EXPECT_EQ(ids(q), (V{"Q9"}));
    q = {};
    q.since = base_time() + std::chrono::minutes{3};
    q.until = base_time() + std::chrono::minutes{5};
    EXPECT_EQ(ids(q), (V{"Q5", "Q4", "Q3"}));
    q.sender = "sender0@example.org";
    EXPECT_EQ(ids(q), (V{"Q3"}));
    q = {};
    q.limit = 2;
    EXPECT_EQ(ids(q), (V{"Q11", "Q10"}));
    q.limit = 0;
    EXPECT_TRUE(ids(q).empty());
}

TYPED_TEST_P(StoreContract, LimitHoldsAcrossManyEvents) {
    this->append_range(1200);
    EventQuery q;
    q.limit = 1100;
    auto out = this->store_->query_events(q);
    ASSERT_THAT(out, IsOk());
    ASSERT_EQ(out->size(), 1100u);
    EXPECT_EQ(out->front().queue_id, "Q1199");
    EXPECT_EQ(out->back().queue_id, "Q100");
    q.limit = 5;
    q.login = "user1";  // matches every sixth event: the scan must page past misses
    q.until = base_time() + std::chrono::milliseconds{600};
    out = this->store_->query_events(q);
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(queue_ids(*out), (std::vector<std::string>{"Q595", "Q589", "Q583", "Q577", "Q571"}));
}

TYPED_TEST_P(StoreContract, CountsCodesPerHourOfTheEventTime) {
    std::vector<Event> in = {sample_event(1), sample_event(2), sample_event(3), sample_event(4)};
    in[1].enhanced_code = "";  // counted by basic code
    in[2].reply_code = 0;
    in[2].enhanced_code = "";
    in[2].action = "quarantine";                          // counted by action
    in[3].time = base_time() + std::chrono::minutes{61};  // the next hour
    ASSERT_THAT(this->store_->append_events(in), IsOk());
    ASSERT_THAT(this->store_->append_events(std::span<const Event>(in.data(), 1)), IsOk());
    const CodeCounts first = {{"5.7.1", 2}, {"550", 1}, {"quarantine", 1}};
    EXPECT_THAT(this->store_->code_counts(base_time() + std::chrono::minutes{59}),
                mailwarden::testing::IsOkAndHolds(first));
    const CodeCounts second = {{"5.7.1", 1}};
    EXPECT_THAT(this->store_->code_counts(base_time() + std::chrono::minutes{60}),
                mailwarden::testing::IsOkAndHolds(second));
    EXPECT_THAT(this->store_->code_counts(base_time() - std::chrono::minutes{1}),
                mailwarden::testing::IsOkAndHolds(CodeCounts{}));
}

TYPED_TEST_P(StoreContract, OddSendersStayApartAndQueryable) {
    const std::string senders[] = {"a@x\r\n*3\r\n$3\r\nDEL\r\n$9\r\nmw:events\r\n",
                                   std::string(4096, 'z') + "@x", std::string(4096, 'z') + "@y",
                                   "#0123456789abcdef0123456789abcdef", "plain@x"};
    std::vector<Event> in;
    int n = 0;
    for (const auto& s : senders) {
        Event e = sample_event(n++);
        e.sender = s;
        in.push_back(e);
    }
    ASSERT_THAT(this->store_->append_events(in), IsOk());
    for (std::size_t i = 0; i < in.size(); ++i) {
        SCOPED_TRACE(i);
        EventQuery q;
        q.sender = senders[i];
        auto out = this->store_->query_events(q);
        ASSERT_THAT(out, IsOk());
        ASSERT_EQ(out->size(), 1u);
        EXPECT_EQ((*out)[0].queue_id, in[i].queue_id);
        EXPECT_EQ((*out)[0].sender, senders[i]);
    }
    auto all = this->store_->query_events({});
    ASSERT_THAT(all, IsOk());
    EXPECT_EQ(all->size(), in.size());
}

/// An outgoing failure (a bounce for our mail) at base_time() + `offset`.
inline Event failure_event(int n, std::string category, std::string rcpt,
                           std::chrono::milliseconds offset = {}) {
    Event e;
    e.time = base_time() + offset;
    e.kind = "outgoing_failure";
    e.queue_id = "ORIG" + std::to_string(n);
    e.report_queue_id = "DSN" + std::to_string(n);
    e.direction = "outbound";
    e.stage = "bounce";
    e.check = "bounce";
    e.action = "failed";
    e.reply_code = 550;
    e.enhanced_code = category == "userunknown" ? "5.1.1" : "5.2.2";
    e.category = std::move(category);
    e.sender = "Alice@Example.com";
    e.login = "alice";
    e.remote_host = "MX.Example.org";
    e.recipients = {std::move(rcpt)};
    e.message_id = "<m" + std::to_string(n) + "@example.com>";
    return e;
}

TYPED_TEST_P(StoreContract, CountsOutgoingFailuresPerHourByEachDimension) {
    std::vector<Event> in = {failure_event(1, "userunknown", "bob@example.org"),
                             failure_event(2, "userunknown", "carol@Example.org"),
                             failure_event(3, "mailboxfull", "dave@example.net"),
                             sample_event(4)};  // a decision: not a failure
    in[2].remote_host = "";
    ASSERT_THAT(this->store_->append_events(in), IsOk());
    const auto hour = base_time() + std::chrono::minutes{5};
    using mailwarden::testing::IsOkAndHolds;
    EXPECT_THAT(this->store_->failure_counts(FailureDimension::Code, hour),
                IsOkAndHolds(FailureCounts{{"5.1.1", 2}, {"5.2.2", 1}}));
    EXPECT_THAT(this->store_->failure_counts(FailureDimension::Category, hour),
                IsOkAndHolds(FailureCounts{{"mailboxfull", 1}, {"userunknown", 2}}));
    EXPECT_THAT(this->store_->failure_counts(FailureDimension::Domain, hour),
                IsOkAndHolds(FailureCounts{{"example.net", 1}, {"example.org", 2}}));
    EXPECT_THAT(this->store_->failure_counts(FailureDimension::RemoteHost, hour),
                IsOkAndHolds(FailureCounts{{"mx.example.org", 2}}));
    EXPECT_THAT(
        this->store_->failure_counts(FailureDimension::Code, base_time() + std::chrono::hours{1}),
        IsOkAndHolds(FailureCounts{}));
}

TYPED_TEST_P(StoreContract, KeepsCappedRecentFailuresPerSenderLoginAndDomain) {
    std::vector<Event> in;
    const int n = static_cast<int>(kRecentFailuresPerOwner) + 20;
    for (int i = 0; i < n; ++i) {
        in.push_back(
            failure_event(i, "userunknown", "bob@example.org", std::chrono::milliseconds{i}));
    }
    in.push_back(failure_event(n, "mailboxfull", "dave@example.net", std::chrono::milliseconds{n}));
    ASSERT_THAT(this->store_->append_events(in), IsOk());

    auto by_sender = this->store_->recent_failures(FailureOwner::Sender, "alice@EXAMPLE.com", 5);
    ASSERT_THAT(by_sender, IsOk());
    ASSERT_EQ(by_sender->size(), 5u);
    EXPECT_EQ((*by_sender)[0].queue_id, "ORIG" + std::to_string(n)) << "newest first";
    EXPECT_EQ((*by_sender)[0].message_id, "<m" + std::to_string(n) + "@example.com>");
    EXPECT_EQ((*by_sender)[0].category, "mailboxfull");

    auto by_login = this->store_->recent_failures(FailureOwner::Login, "alice", 1000);
    ASSERT_THAT(by_login, IsOk());
    EXPECT_EQ(by_login->size(), kRecentFailuresPerOwner) << "capped";

    auto by_domain = this->store_->recent_failures(FailureOwner::Domain, "Example.NET", 10);
    ASSERT_THAT(by_domain, IsOk());
    ASSERT_EQ(by_domain->size(), 1u);
    EXPECT_EQ(by_domain->front().recipients, std::vector<std::string>{"dave@example.net"});

    auto nobody = this->store_->recent_failures(FailureOwner::Login, "ALICE", 10);
    ASSERT_THAT(nobody, IsOk());
    EXPECT_TRUE(nobody->empty()) << "logins keep their case";
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, AnswersPingAndNamesItsKind, StartsEmpty,
                            ReturnsEveryFieldNewestFirstWithDistinctIds,
                            FiltersBySenderLoginCodeQueueIdAndTime, LimitHoldsAcrossManyEvents,
                            CountsCodesPerHourOfTheEventTime, OddSendersStayApartAndQueryable,
                            CountsOutgoingFailuresPerHourByEachDimension,
                            KeepsCappedRecentFailuresPerSenderLoginAndDomain);

}  // namespace mailwarden::store::contract
