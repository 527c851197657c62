// The EventStore contract suite; instantiated per implementation (see event_store_contract.hpp).
#include "tests/unit/daemon/event_store_contract.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dollhouse::daemon::contract {
namespace {

std::vector<std::string> bodies(const std::vector<StoredEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.body);
  return out;
}

std::vector<std::string> all_bodies(EventStore& store) {
  auto events = store.all();
  EXPECT_TRUE(events) << events.status().message();
  return events ? bodies(*events) : std::vector<std::string>{};
}

}  // namespace

// ---- append / read -----------------------------------------------------------------------------

TEST_P(EventStoreContract, NewStoreIsEmpty) {
  auto all = store().all();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  auto st = store().stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pending, 0);
  EXPECT_EQ(st->sent, 0);
  EXPECT_EQ(st->bytes, 0);
  auto newest = store().newest(10, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_TRUE(newest->empty());
}

TEST_P(EventStoreContract, AllReturnsEveryEventOldestFirstWithItsFields) {
  add(1'000, "error", R"({"n":1})");
  add(2'000, "crash", R"({"n":2})");
  add(3'000, "error", R"({"n":3})");
  auto all = store().all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].created_ms, 1'000);
  EXPECT_EQ((*all)[0].event_type, "error");
  EXPECT_EQ((*all)[0].body, R"({"n":1})");
  EXPECT_FALSE((*all)[0].sent);
  EXPECT_EQ((*all)[1].event_type, "crash");
  EXPECT_EQ((*all)[2].body, R"({"n":3})");
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  EXPECT_LT((*all)[1].id, (*all)[2].id);
}

TEST_P(EventStoreContract, OrderFollowsArrivalNotCreatedTime) {
  add(5'000, "error", "first");
  add(1'000, "error", "second");  // clock stepped back between the two
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"first", "second"}));
  auto newest = store().newest(10, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_EQ(bodies(*newest), (std::vector<std::string>{"second", "first"}));
}

TEST_P(EventStoreContract, NewestReturnsTheNewestFirstUpToTheLimit) {
  for (int i = 0; i < 5; ++i) add(1'000 * i, "error", "e" + std::to_string(i));
  auto newest = store().newest(3, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_EQ(bodies(*newest), (std::vector<std::string>{"e4", "e3", "e2"}));
  auto more = store().newest(100, std::nullopt);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->size(), 5u);
}

TEST_P(EventStoreContract, NewestSinceKeepsEventsAtOrAfterTheCutoff) {
  for (int i = 0; i < 5; ++i) add(1'000 * i, "error", "e" + std::to_string(i));
  auto since = store().newest(10, 2'000);
  ASSERT_TRUE(since);
  EXPECT_EQ(bodies(*since), (std::vector<std::string>{"e4", "e3", "e2"}));
  auto limited = store().newest(1, 2'000);
  ASSERT_TRUE(limited);
  EXPECT_EQ(bodies(*limited), (std::vector<std::string>{"e4"}));
  auto none = store().newest(10, 10'000);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(EventStoreContract, NewestWithZeroLimitReturnsNothing) {
  add(1, "error", "e");
  auto newest = store().newest(0, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_TRUE(newest->empty());
}

TEST_P(EventStoreContract, StoresTextVerbatimWhateverItContains) {
  const std::string type = "error'); DROP TABLE events; --";
  const std::string body = std::string(R"({"q":"\"quoted\"","u":"é😀"})") + "\n\t?1 ?2 %s";
  add(-5, type, body);  // created before 1970 is still a valid time
  add(1, "", "");
  auto all = store().all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].event_type, type);
  EXPECT_EQ((*all)[0].body, body);
  EXPECT_EQ((*all)[0].created_ms, -5);
  EXPECT_EQ((*all)[1].body, "");
}

TEST_P(EventStoreContract, StatsCountPendingSentAndBodyBytes) {
  add(1, "error", "12345");
  add(2, "error", "123");
  add(3, "crash", "1234567");
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[1].id);
  auto st = store().stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pending, 2);
  EXPECT_EQ(st->sent, 1);
  EXPECT_EQ(st->bytes, 5 + 3 + 7);
  auto after = store().all();
  ASSERT_TRUE(after);
  EXPECT_FALSE((*after)[0].sent);
  EXPECT_TRUE((*after)[1].sent);
}

// ---- deletion ----------------------------------------------------------------------------------

TEST_P(EventStoreContract, DeleteAllRemovesEverythingAndSaysHowMany) {
  add(1, "error", "a");
  add(2, "crash", "b");
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[0].id);
  auto removed = store().delete_all();
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2);
  EXPECT_TRUE(all_bodies(store()).empty());
  auto again = store().delete_all();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
}

TEST_P(EventStoreContract, DeleteUnsentKeepsSentEvents) {
  add(1, "error", "sent");
  add(2, "error", "unsent-1");
  add(3, "crash", "unsent-2");
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[0].id);
  auto removed = store().delete_unsent(std::nullopt);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"sent"}));
}

TEST_P(EventStoreContract, DeleteUnsentOfOneTypeKeepsOtherTypes) {
  add(1, "error", "error-1");
  add(2, "crash", "crash-1");
  add(3, "error", "error-2");
  add(4, "installation", "install-1");
  auto removed = store().delete_unsent(std::string("error"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"crash-1", "install-1"}));
  auto none = store().delete_unsent(std::string("update"));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  // The filter of the previous call does not stick.
  auto rest = store().delete_unsent(std::nullopt);
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, 2);
}

TEST_P(EventStoreContract, PerAppStatsAndDeletionTouchOnlyThatApp) {
  add(1, "error", "mcp-sent", "dollhousemcp");
  add(2, "error", "mcp-unsent", "dollhousemcp");
  add(3, "crash", "demo-sent", "demo");
  add(4, "crash", "demo-unsent", "demo");
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[0].id);
  mark_sent((*all)[2].id);
  auto stats = store().app_stats();
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ(stats->at("demo").pending, 1);
  EXPECT_EQ(stats->at("demo").sent, 1);
  EXPECT_EQ(stats->at("dollhousemcp").pending, 1);
  auto removed = store().delete_unsent_of_app("demo");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"mcp-sent", "mcp-unsent", "demo-sent"}));
}

TEST_P(EventStoreContract, CountSinceCountsEventsAtOrAfterTheCutoff) {
  add(10, "error", "a");
  add(20, "error", "b");
  add(30, "error", "c");
  auto all = store().count_since(std::nullopt);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 3);
  auto since = store().count_since(20);
  ASSERT_TRUE(since);
  EXPECT_EQ(*since, 2);
}

TEST_P(EventStoreContract, UsageOfOneAppIsDeletedAlone) {
  ASSERT_TRUE(store().put_usage_week({"2026-11-23", "demo"}, "{}"));
  ASSERT_TRUE(store().put_usage_week({"2026-11-23", "dollhousemcp"}, "{}"));
  ASSERT_TRUE(store().delete_usage_of_app("demo"));
  auto weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  ASSERT_EQ(weeks->size(), 1u);
  EXPECT_EQ(weeks->begin()->first.app, "dollhousemcp");
}

// ---- eviction ----------------------------------------------------------------------------------

TEST_P(EventStoreContract, EvictOlderThanRemovesEventsBeforeTheCutoffAndCountsUnsent) {
  add(1'000, "error", "old-sent");
  add(2'000, "error", "old-unsent");
  add(3'000, "error", "at-cutoff");
  add(4'000, "error", "new");
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[0].id);
  auto e = store().evict_older_than(3'000);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 2);
  EXPECT_EQ(e->removed_unsent, 1);
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"at-cutoff", "new"}));
}

TEST_P(EventStoreContract, EvictOlderThanWithNothingOldRemovesNothing) {
  add(5'000, "error", "a");
  auto e = store().evict_older_than(5'000);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 0);
  EXPECT_EQ(e->removed_unsent, 0);
  EXPECT_EQ(all_bodies(store()).size(), 1u);
}

TEST_P(EventStoreContract, EvictToFitByCountRemovesTheOldestFirst) {
  for (int i = 0; i < 6; ++i) add(i, "error", "e" + std::to_string(i));
  auto all = store().all();
  ASSERT_TRUE(all);
  mark_sent((*all)[0].id);
  auto e = store().evict_to_fit(4, 1'000'000);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 2);
  EXPECT_EQ(e->removed_unsent, 1);
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"e2", "e3", "e4", "e5"}));
}

TEST_P(EventStoreContract, EvictToFitByBytesRemovesTheOldestFirst) {
  add(1, "error", std::string(100, 'a'));
  add(2, "error", std::string(100, 'b'));
  add(3, "error", std::string(100, 'c'));
  add(4, "error", std::string(50, 'd'));
  // 350 bytes; at most 200 may stay: dropping a (250 left) is not enough, dropping b is.
  auto e = store().evict_to_fit(100, 200);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 2);
  EXPECT_EQ(e->removed_unsent, 2);
  EXPECT_EQ(all_bodies(store()),
            (std::vector<std::string>{std::string(100, 'c'), std::string(50, 'd')}));
  auto st = store().stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->bytes, 150);
}

TEST_P(EventStoreContract, EvictToFitLeavesAStoreThatFitsAlone) {
  add(1, "error", "abc");
  add(2, "error", "def");
  auto e = store().evict_to_fit(2, 6);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 0);
  EXPECT_EQ(all_bodies(store()).size(), 2u);
}

TEST_P(EventStoreContract, EvictToFitWithZeroCapsEmptiesTheStore) {
  add(1, "error", "abc");
  add(2, "error", "def");
  auto e = store().evict_to_fit(0, 0);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 2);
  EXPECT_TRUE(all_bodies(store()).empty());
}

TEST_P(EventStoreContract, EvictToFitCountsRightAfterEveryKindOfChange) {
  // The cap is checked after appends, deletions, a field removal and a rolled-back transaction
  // in one store: each must leave the count and the bytes the cap sees true.
  for (int i = 0; i < 6; ++i) add(i, "error", std::string(10, static_cast<char>('a' + i)));
  ASSERT_TRUE(store().evict_to_fit(100, 1'000'000));  // counted now
  ASSERT_TRUE(store().begin());
  add(6, "error", std::string(10, 'g'));
  store().rollback();  // the seventh event is not there
  auto e = store().evict_to_fit(6, 60);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 0) << "six events of 10 bytes fit six and 60";
  auto deleted = store().delete_unsent(std::string("error"));
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 6);
  for (int i = 0; i < 3; ++i) add(10 + i, "update", R"({"p":"0123456789"})");
  ASSERT_TRUE(store().remove_unsent_field("update", "$.p"));  // 18 bytes become 2
  e = store().evict_to_fit(100, 6);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 0) << "three events of 2 bytes fit 6 bytes";
  add(20, "update", "xyz");
  e = store().evict_to_fit(3, 1'000'000);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->removed, 1);
  auto st = store().stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pending, 3);
  EXPECT_EQ(st->bytes, 2 + 2 + 3);
}

// ---- counters and usage weeks ------------------------------------------------------------------

TEST_P(EventStoreContract, CountersStartEmptyAndReadBackAsSaved) {
  auto empty = store().load_counters();
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(store().save_counters({{"dropped.no_consent", 3}, {"accepted", 10}}));
  ASSERT_TRUE(store().save_counters({{"dropped.no_consent", 5}}));
  auto loaded = store().load_counters();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded,
            (std::map<std::string, std::int64_t>{{"accepted", 10}, {"dropped.no_consent", 5}}));
}

TEST_P(EventStoreContract, UsageWeeksArePutReplacedAndDeleted) {
  auto empty = store().usage_weeks();
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  const UsageKey week1{"2026-11-23", "app-a"};
  const UsageKey week2{"2026-11-30", "app-a"};
  const UsageKey week1_other_app{"2026-11-23", "app-b"};
  ASSERT_TRUE(store().put_usage_week(week1, R"({"a":1})"));
  ASSERT_TRUE(store().put_usage_week(week2, R"({"b":2})"));
  ASSERT_TRUE(store().put_usage_week(week1, R"({"a":3})"));
  ASSERT_TRUE(store().put_usage_week(week1_other_app, R"({"c":4})"));
  auto weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  EXPECT_EQ(*weeks,
            (std::map<UsageKey, std::string>{
                {week1, R"({"a":3})"}, {week1_other_app, R"({"c":4})"}, {week2, R"({"b":2})"}}));
  ASSERT_TRUE(store().delete_usage_week(week1));
  ASSERT_TRUE(store().delete_usage_week(week1_other_app));
  ASSERT_TRUE(store().delete_usage_week({"2000-01-03", "app-a"}));  // absent: not an error
  weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  EXPECT_EQ(*weeks, (std::map<UsageKey, std::string>{{week2, R"({"b":2})"}}));
  ASSERT_TRUE(store().delete_all_usage());
  weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  EXPECT_TRUE(weeks->empty());
}

TEST_P(EventStoreContract, OneUsageWeekIsReadAlone) {
  const UsageKey week{"2026-11-23", "app-a"};
  auto missing = store().usage_week(week);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(store().put_usage_week(week, R"({"a":1})"));
  ASSERT_TRUE(store().put_usage_week({"2026-11-23", "app-b"}, R"({"b":2})"));
  auto found = store().usage_week(week);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value_or(""), R"({"a":1})");
  auto other_week = store().usage_week({"2026-11-30", "app-a"});
  ASSERT_TRUE(other_week);
  EXPECT_FALSE(other_week->has_value());
}

// ---- transactions and durability ---------------------------------------------------------------

TEST_P(EventStoreContract, RollbackDiscardsEverythingSinceBegin) {
  add(1, "error", "before");
  ASSERT_TRUE(store().begin());
  add(2, "error", "inside");
  ASSERT_TRUE(store().save_counters({{"c", 1}}));
  ASSERT_TRUE(store().put_usage_week({"2026-11-23", "app-a"}, "{}"));
  store().rollback();
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"before"}));
  auto counters = store().load_counters();
  ASSERT_TRUE(counters);
  EXPECT_TRUE(counters->empty());
  auto weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  EXPECT_TRUE(weeks->empty());
  // And the store is usable afterwards.
  ASSERT_TRUE(store().begin());
  add(3, "error", "after");
  ASSERT_TRUE(store().commit());
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"before", "after"}));
}

TEST_P(EventStoreContract, RollbackWithoutATransactionIsHarmless) {
  add(1, "error", "kept");
  store().rollback();
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"kept"}));
}

TEST_P(EventStoreContract, CommitWithoutBeginFails) {
  EXPECT_FALSE(store().commit());
}

TEST_P(EventStoreContract, CommittedDataSurvivesReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "this store keeps nothing across reopening";
  ASSERT_TRUE(store().begin());
  add(1'000, "crash", "c1");
  add(2'000, "error", "e1");
  ASSERT_TRUE(store().save_counters({{"dropped.kill_switch", 7}}));
  ASSERT_TRUE(store().put_usage_week({"2026-11-23", "app-a"}, R"({"x":1})"));
  ASSERT_TRUE(store().commit());
  reopen();
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"c1", "e1"}));
  auto counters = store().load_counters();
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters->at("dropped.kill_switch"), 7);
  auto weeks = store().usage_weeks();
  ASSERT_TRUE(weeks);
  EXPECT_EQ(weeks->at(UsageKey{"2026-11-23", "app-a"}), R"({"x":1})");
}

TEST_P(EventStoreContract, WritesOutsideATransactionAlsoSurviveReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "this store keeps nothing across reopening";
  add(1, "error", "autocommit");
  reopen();
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"autocommit"}));
}

TEST_P(EventStoreContract, ATransactionLeftOpenAtCloseIsNotKept) {
  if (!GetParam().persistent) GTEST_SKIP() << "this store keeps nothing across reopening";
  add(1, "error", "committed");
  ASSERT_TRUE(store().begin());
  add(2, "error", "never committed");
  reopen();
  EXPECT_EQ(all_bodies(store()), (std::vector<std::string>{"committed"}));
}

TEST_P(EventStoreContract, IdsKeepGrowingAfterDeletionAndReopening) {
  add(1, "error", "a");
  auto first = store().all();
  ASSERT_TRUE(first);
  std::int64_t first_id = (*first)[0].id;
  ASSERT_TRUE(store().delete_all());
  if (GetParam().persistent) reopen();
  add(2, "error", "b");
  auto second = store().all();
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_GT((*second)[0].id, first_id) << "an id is never reused, so a sent mark cannot move";
}

}  // namespace dollhouse::daemon::contract
