// journal_test.cpp - Journal: append and read back in order, the read cursor, truncation
// after a full read, corrupt and cut-short lines, the size bound.
#include "store/journal.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/matchers.hpp"
#include "support/temp_dir.hpp"
#include "unit/store/store_contract.hpp"

namespace mailwarden::store {
namespace {

using contract::queue_ids;
using contract::sample_event;
using mailwarden::testing::HasError;
using mailwarden::testing::IsOk;
using mailwarden::testing::TempDir;
using V = std::vector<std::string>;

std::vector<Event> events(int from, int to) {
    std::vector<Event> out;
    for (int i = from; i < to; ++i) {
        out.push_back(sample_event(i));
    }
    return out;
}

TEST(Journal, ReadsBackWhatWasAppendedInOrder) {
    TempDir dir("mw-journal");
    auto journal = Journal::open(dir / "sub/events.journal", 1 << 20);
    ASSERT_TRUE(journal.has_value()) << journal.error().describe();
    auto& j = **journal;
    EXPECT_TRUE(j.empty());
    ASSERT_THAT(j.append(events(0, 3)), IsOk());
    ASSERT_THAT(j.append(events(3, 5), false), IsOk());
    EXPECT_FALSE(j.empty());

    auto first = j.peek(2);
    ASSERT_THAT(first, IsOk());
    EXPECT_EQ(queue_ids(*first), (V{"Q0", "Q1"}));
    EXPECT_EQ((*first)[1], sample_event(1));
    // without commit_read the same events come again
    EXPECT_EQ(queue_ids(*j.peek(2)), (V{"Q0", "Q1"}));
    ASSERT_THAT(j.commit_read(), IsOk());
    EXPECT_EQ(queue_ids(*j.peek(10)), (V{"Q2", "Q3", "Q4"}));
    EXPECT_GT(j.size_bytes(), 0u);
    ASSERT_THAT(j.commit_read(), IsOk());
    EXPECT_TRUE(j.empty());
    EXPECT_EQ(j.size_bytes(), 0u);
    EXPECT_EQ(std::filesystem::file_size(dir / "sub/events.journal"), 0u);
}

TEST(Journal, AppendsDuringAReadAreKeptBehind) {
    TempDir dir("mw-journal");
    auto j = std::move(*Journal::open(dir / "j", 1 << 20));
    ASSERT_THAT(j->append(events(0, 2)), IsOk());
    EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q0", "Q1"}));
    ASSERT_THAT(j->append(events(2, 3)), IsOk());
    ASSERT_THAT(j->commit_read(), IsOk());
    EXPECT_FALSE(j->empty());
    EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q2"}));
}

TEST(Journal, AJournalFromAnEarlierRunIsReadFromItsStart) {
    TempDir dir("mw-journal");
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        ASSERT_THAT(j->append(events(0, 3)), IsOk());
    }
    auto j = std::move(*Journal::open(dir / "j", 1 << 20));
    EXPECT_FALSE(j->empty());
    EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q0", "Q1", "Q2"}));
}

TEST(Journal, ARestartContinuesWhereTheReplayStopped) {
    TempDir dir("mw-journal");
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        ASSERT_THAT(j->append(events(0, 5)), IsOk());
        EXPECT_EQ(queue_ids(*j->peek(2)), (V{"Q0", "Q1"}));
        ASSERT_THAT(j->commit_read(), IsOk());
        EXPECT_EQ(queue_ids(*j->peek(1)), (V{"Q2"}));  // peeked, not committed
    }                                                  // a crash or restart here
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q2", "Q3", "Q4"}));
        ASSERT_THAT(j->commit_read(), IsOk());
        EXPECT_TRUE(j->empty());
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "j.pos"));
    EXPECT_EQ(std::filesystem::file_size(dir / "j"), 0u);
}

TEST(Journal, AnUnusableCursorMeansReplayingFromTheStart) {
    TempDir dir("mw-journal");
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        ASSERT_THAT(j->append(events(0, 2)), IsOk());
    }
    for (const char* cursor : {"999999 3\n", "5 1\n", "garbage"}) {
        SCOPED_TRACE(cursor);
        dir.write("j.pos", cursor);
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q0", "Q1"}));
    }
}

TEST(Journal, SkipsCorruptLinesAndCountsThemOnce) {
    TempDir dir("mw-journal");
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        ASSERT_THAT(j->append(events(0, 1)), IsOk());
    }
    {
        std::ofstream out(dir / "j", std::ios::app);
        out << "{not json\n"
            << "\n"
            << R"({"kind":"decision"})"
            << "\n"  // no time
            << "[1,2,3]\n"
            << std::string(2 << 20, 'x') << "\n";  // longer than any event
    }
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 30));
        ASSERT_THAT(j->append(events(1, 2)), IsOk());
    }
    auto j = std::move(*Journal::open(dir / "j", 1 << 30));
    auto read = j->peek(10);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(queue_ids(*read), (V{"Q0", "Q1"}));
    EXPECT_EQ(j->corrupt_lines(), 4u);
    (void)j->peek(10);
    EXPECT_EQ(j->corrupt_lines(), 4u);
    ASSERT_THAT(j->commit_read(), IsOk());
    EXPECT_TRUE(j->empty());
}

TEST(Journal, ALineCutShortByACrashIsSkippedAndLaterLinesSurvive) {
    TempDir dir("mw-journal");
    {
        auto j = std::move(*Journal::open(dir / "j", 1 << 20));
        ASSERT_THAT(j->append(events(0, 1)), IsOk());
    }
    {
        std::ofstream out(dir / "j", std::ios::app);
        out << R"({"time_ms":1,"kind":"dec)";  // no newline: the crash
    }
    auto j = std::move(*Journal::open(dir / "j", 1 << 20));
    ASSERT_THAT(j->append(events(1, 2)), IsOk());
    EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q0", "Q1"}));
    EXPECT_EQ(j->corrupt_lines(), 1u);
}

TEST(Journal, RefusesToGrowPastItsBound) {
    TempDir dir("mw-journal");
    auto j = std::move(*Journal::open(dir / "j", 2000));
    ASSERT_THAT(j->append(events(0, 1)), IsOk());
    const auto size = j->size_bytes();
    EXPECT_THAT(j->append(events(1, 100)), HasError(util::ErrorCode::PermFailure));
    EXPECT_EQ(j->size_bytes(), size);
    EXPECT_EQ(queue_ids(*j->peek(10)), (V{"Q0"}));
}

TEST(Journal, OpenFailsWithUnavailableWhenThePathIsUnusable) {
    TempDir dir("mw-journal");
    const auto file = dir.write("plain-file", "x");
    EXPECT_THAT(Journal::open(file / "journal", 1 << 20), HasError(util::ErrorCode::Unavailable));
}

}  // namespace
}  // namespace mailwarden::store
