#include "libs/onlinestore/redis_online_store.h"

#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "granary/types/v1/online_row.pb.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/keys/entity_key.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::onlinestore {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kDeadline = absl::Seconds(5);

redis::RedisOptions OptionsFor(const RedisServer& server) {
  redis::RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  return o;
}

std::string Ts(absl::Time t) { return base::ToProtoTime(t).SerializeAsString(); }

RowWrite Row(const std::string& key, int64_t seconds, std::vector<std::string> values) {
  absl::Time t = absl::FromUnixSeconds(seconds);
  return {key, t, /*created_time=*/t, std::move(values)};
}

RowWrite RowAt(const std::string& key, absl::Time event, absl::Time created,
               std::vector<std::string> values) {
  return {key, event, created, std::move(values)};
}

ViewWrite View(std::vector<RowWrite> rows, int64_t view_version = 1) {
  return {"v", {"f1", "f2"}, view_version, absl::ZeroDuration(), std::move(rows)};
}

absl::Time Civil(int64_t year, int month = 1, int day = 1) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, 0, 0, 0), absl::UTCTimeZone());
}

std::string Key(int64_t id, const std::string& project) {
  types::v1::Value v;
  v.set_int64_val(id);
  absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", v}}, project);
  EXPECT_OK(key);
  return *key;
}

// Reads fields of keys; "<nil>" for missing.
std::vector<std::vector<std::string>> Read(OnlineStoreSession& s,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& fields) {
  std::vector<HashGet> gets;
  for (const auto& k : keys) gets.push_back({k, &fields});
  std::vector<std::vector<std::string>> out(keys.size(), std::vector<std::string>(fields.size()));
  EXPECT_OK(s.MultiGet(gets, absl::Now() + kDeadline,
                       [&](size_t g, size_t f, const char* data, size_t size) {
                         out[g][f] = data == nullptr ? "<nil>" : std::string(data, size);
                       }));
  return out;
}

class OnlineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    store_ = std::make_unique<RedisOnlineStore>(OptionsFor(*redis_));
    session_ = store_->NewSession();
  }

  // Rows written by one call.
  int64_t Write(const ViewWrite& write) {
    absl::StatusOr<WriteResult> result = session_->WriteNewer(write, absl::Now() + kDeadline);
    EXPECT_OK(result);
    if (!result.ok()) return -1;
    EXPECT_THAT(result->wrong_type_rows, IsEmpty());
    return result->written;
  }
  std::string F1(const std::string& key) { return Read(*session_, {key}, {"f1"})[0][0]; }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisOnlineStore> store_;
  std::unique_ptr<OnlineStoreSession> session_;
};

TEST_F(OnlineStoreTest, MultiGetReadsManyHashesInOrderWithNils) {
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"HSET", "a", "f1", std::string("\x00\x01", 2), "f2", "y"}));
  ASSERT_OK(raw.Command({"HSET", "b", "f2", "z"}));
  auto out = Read(*session_, {"a", "missing", "b"}, {"f1", "f2", "f3"});
  EXPECT_THAT(out[0], ElementsAre(std::string("\x00\x01", 2), "y", "<nil>"));
  EXPECT_THAT(out[1], ElementsAre("<nil>", "<nil>", "<nil>"));
  EXPECT_THAT(out[2], ElementsAre("<nil>", "z", "<nil>"));
}

TEST_F(OnlineStoreTest, NewerRowsWinOlderAndEqualOnesAreSkipped) {
  EXPECT_EQ(Write(View({Row("k", 100, {"a100", "b100"})})), 1);
  EXPECT_EQ(Write(View({Row("k", 50, {"a50", "b50"})})), 0);
  EXPECT_EQ(Write(View({Row("k", 100, {"again", "again"})})), 0);
  EXPECT_THAT(Read(*session_, {"k"}, {"f1", "f2"})[0], ElementsAre("a100", "b100"));
  // Newer by nanoseconds is newer.
  RowWrite later = Row("k", 100, {"a100n", ""});
  later.event_time += absl::Nanoseconds(1);
  EXPECT_EQ(Write(View({later})), 1);
  // An empty value left f2 as it was.
  EXPECT_THAT(Read(*session_, {"k"}, {"f1", "f2", "_ts:v"})[0],
              ElementsAre("a100n", "b100", Ts(later.event_time)));
}

TEST_F(OnlineStoreTest, TimesBefore1970AndFarAheadCompareAsSignedTimes) {
  // Each newer than the one before: from year 1 through 1969 (negative seconds, and
  // fractions of a second before the epoch) to year 9999.
  const std::vector<absl::Time> ascending = {
      Civil(1),
      Civil(1900, 6, 1),
      absl::FromUnixSeconds(-2) + absl::Milliseconds(250),  // -1.75 s
      absl::FromUnixSeconds(-1) - absl::Nanoseconds(1),
      absl::FromUnixSeconds(-1) + absl::Milliseconds(500),  // -0.5 s
      absl::UnixEpoch(),
      absl::FromUnixSeconds(1700000000),
      Civil(9999, 12, 31),
  };
  for (size_t i = 0; i < ascending.size(); ++i) {
    std::string value = absl::StrCat("v", i);
    EXPECT_EQ(Write(View({RowAt("k", ascending[i], ascending[i], {value, ""})})), 1) << i;
    EXPECT_EQ(F1("k"), value);
    // Every earlier time is now older, and written no more.
    for (size_t j = 0; j < i; ++j) {
      EXPECT_EQ(Write(View({RowAt("k", ascending[j], ascending[i], {"old", ""})})), 0)
          << j << " after " << i;
    }
  }
  EXPECT_EQ(F1("k"), absl::StrCat("v", ascending.size() - 1));
  // Stored normalized, as Feast's readers expect: -0.5 s is seconds -1, nanos 5e8.
  EXPECT_EQ(Write(View({RowAt("n", absl::FromUnixMillis(-500), absl::Now(), {"x", ""})})), 1);
  google::protobuf::Timestamp stored;
  ASSERT_TRUE(stored.ParseFromString(Read(*session_, {"n"}, {"_ts:v"})[0][0]));
  EXPECT_EQ(stored.seconds(), -1);
  EXPECT_EQ(stored.nanos(), 500000000);
}

TEST_F(OnlineStoreTest, AnEqualEventTimeIsWonByTheNewerCreatedTime) {
  const absl::Time event = absl::FromUnixSeconds(1000);
  const absl::Time created = absl::FromUnixSeconds(2000);
  EXPECT_EQ(Write(View({RowAt("k", event, created, {"first", ""})})), 1);
  // A correction: same event time, created later.
  EXPECT_EQ(Write(View({RowAt("k", event, created + absl::Nanoseconds(1), {"fixed", ""})})), 1);
  EXPECT_EQ(F1("k"), "fixed");
  // Created earlier, or the same row again: not written.
  EXPECT_EQ(Write(View({RowAt("k", event, created, {"stale", ""})})), 0);
  EXPECT_EQ(Write(View({RowAt("k", event, created + absl::Nanoseconds(1), {"again", ""})})), 0);
  EXPECT_EQ(F1("k"), "fixed");
  // Created before 1970 counts as older too.
  EXPECT_EQ(Write(View({RowAt("e", event, absl::FromUnixSeconds(-5), {"a", ""})})), 1);
  EXPECT_EQ(Write(View({RowAt("e", event, absl::FromUnixSeconds(-4), {"b", ""})})), 1);
  EXPECT_EQ(Write(View({RowAt("e", event, absl::FromUnixSeconds(-6), {"c", ""})})), 0);
  EXPECT_EQ(F1("e"), "b");
}

TEST_F(OnlineStoreTest, ATimestampFeastWroteIsRespected) {
  // Feast stores "_ts:<view>" as a serialized Timestamp too, and no created time.
  redis::Client raw(OptionsFor(*redis_));
  absl::Time feast_time = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250);
  ASSERT_OK(raw.Command({"HSET", "k", "_ts:v", Ts(feast_time), "f1", "feast"}));
  EXPECT_EQ(Write(View({Row("k", 1700000000, {"x", "y"})})), 0);
  // The same event time: a row with a created time beats one without.
  EXPECT_EQ(Write(View({RowAt("k", feast_time, absl::Now(), {"granary", "y"})})), 1);
  EXPECT_EQ(F1("k"), "granary");
  ASSERT_OK(raw.Command({"HSET", "pre", "_ts:v", Ts(absl::FromUnixSeconds(-3600)), "f1", "old"}));
  EXPECT_EQ(Write(View({Row("pre", -3601, {"older", ""})})), 0);
  EXPECT_EQ(Write(View({Row("pre", -3599, {"newer", ""})})), 1);
}

TEST_F(OnlineStoreTest, ARowOfAnOlderIncarnationOfTheViewIsAlwaysReplaced) {
  // Version 5 of the view wrote a row dated far ahead; the view was deleted and created
  // again at version 7.
  EXPECT_EQ(Write(View({Row("k", 4000000000, {"old view", ""})}, /*view_version=*/5)), 1);
  EXPECT_EQ(Write(View({Row("k", 100, {"new view", ""})}, /*view_version=*/7)), 1);
  EXPECT_EQ(F1("k"), "new view");
  // A writer still on the old incarnation never replaces the new one's rows.
  EXPECT_EQ(Write(View({Row("k", 5000000000, {"late old", ""})}, /*view_version=*/5)), 0);
  EXPECT_EQ(F1("k"), "new view");
  types::v1::OnlineRowMeta meta;
  ASSERT_TRUE(meta.ParseFromString(Read(*session_, {"k"}, {"_created:v"})[0][0]));
  EXPECT_EQ(meta.view_version(), 7);
  EXPECT_EQ(meta.created_seconds(), 100);
}

TEST_F(OnlineStoreTest, AKeyHoldingAnotherTypeFailsThatRowAlone) {
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"SET", "taken", "a string"}));
  ASSERT_OK_AND_ASSIGN(
      WriteResult result,
      session_->WriteNewer(
          View({Row("a", 1, {"a", ""}), Row("taken", 1, {"t", ""}), Row("b", 1, {"b", ""})}),
          absl::Now() + kDeadline));
  EXPECT_EQ(result.written, 2);
  EXPECT_THAT(result.wrong_type_rows, ElementsAre(1));
  EXPECT_EQ(F1("a"), "a");
  EXPECT_EQ(F1("b"), "b");
  ASSERT_OK_AND_ASSIGN(redis::Reply still, raw.Command({"GET", "taken"}));
  EXPECT_EQ(still.str, "a string");
}

TEST_F(OnlineStoreTest, ManyRowsAndKeyExpiry) {
  std::vector<RowWrite> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(Row(absl::StrCat("k", i), 10, {"a", "b"}));
  ViewWrite write = View(rows);
  write.key_ttl = absl::Hours(1);
  EXPECT_EQ(Write(write), 1000);
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK_AND_ASSIGN(redis::Reply ttl, raw.Command({"TTL", "k999"}));
  EXPECT_GT(ttl.integer, 3500);
  EXPECT_LE(ttl.integer, 3600);
}

TEST_F(OnlineStoreTest, ConcurrentWritersNeverMoveAValueBackwards) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      auto session = store_->NewSession();
      std::mt19937 rng(t);
      for (int i = 0; i < 200; ++i) {
        int64_t second = static_cast<int64_t>(rng() % 10000) - 5000;  // half before 1970
        ASSERT_OK(
            session->WriteNewer(View({Row("shared", second, {absl::StrCat("v", second), ""})}),
                                absl::Now() + kDeadline));
      }
    });
  }
  for (auto& w : writers) w.join();
  // The stored row is the newest of all 800, whoever wrote it last.
  int64_t newest = -5000;
  for (int t = 0; t < 4; ++t) {
    std::mt19937 rng(t);
    for (int i = 0; i < 200; ++i) {
      newest = std::max<int64_t>(newest, static_cast<int64_t>(rng() % 10000) - 5000);
    }
  }
  EXPECT_THAT(Read(*session_, {"shared"}, {"f1", "_ts:v"})[0],
              ElementsAre(absl::StrCat("v", newest), Ts(absl::FromUnixSeconds(newest))));
}

TEST_F(OnlineStoreTest, SurvivesLostScriptsAndRedisRestarts) {
  EXPECT_EQ(Write(View({Row("k", 1, {"a", "b"})})), 1);
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"SCRIPT", "FLUSH"}));
  EXPECT_EQ(Write(View({Row("k", 2, {"a", "b"})})), 1);
  ASSERT_OK(redis_->Stop());
  EXPECT_THAT(session_->Ping(absl::Now() + kDeadline), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(redis_->Restart());
  EXPECT_OK(session_->Ping(absl::Now() + kDeadline));
  EXPECT_EQ(Write(View({Row("k", 3, {"a", "b"})})), 1);
}

TEST_F(OnlineStoreTest, AWriteOfManyCallsWhoseScriptRedisLostIsSentAgain) {
  // 600 rows are three script calls sent together, all refused for the lost script (a loss
  // between calls of one write, some run and some not, is not produced here); a key of
  // another type in the last one, reported once.
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"SET", "k599", "a string"}));
  EXPECT_EQ(Write(View({Row("k0", 1, {"a", "b"})})), 1);  // this session loaded the script
  ASSERT_OK(raw.Command({"SCRIPT", "FLUSH"}));            // ... and Redis lost it
  std::vector<RowWrite> rows;
  for (int i = 0; i < 600; ++i) rows.push_back(Row(absl::StrCat("k", i), 2, {"new", ""}));
  ASSERT_OK_AND_ASSIGN(WriteResult result,
                       session_->WriteNewer(View(rows), absl::Now() + kDeadline));
  EXPECT_EQ(result.written, 599);
  EXPECT_THAT(result.wrong_type_rows, ElementsAre(599));
  for (int i = 0; i < 599; ++i) EXPECT_EQ(F1(absl::StrCat("k", i)), "new") << i;
}

TEST_F(OnlineStoreTest, OutOfMemoryAndReadOnlyAreUnavailableUntilTheyPass) {
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory", "1"}));
  EXPECT_THAT(session_->WriteNewer(View({Row("k", 1, {"a", "b"})}), absl::Now() + kDeadline),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("OOM")));
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory", "0"}));
  EXPECT_EQ(Write(View({Row("k", 1, {"a", "b"})})), 1);

  // A replica (of a primary that does not answer: its data stays) refuses writes.
  ASSERT_OK(raw.Command({"REPLICAOF", "127.0.0.1", "1"}));
  EXPECT_THAT(session_->WriteNewer(View({Row("k", 2, {"a2", "b"})}), absl::Now() + kDeadline),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("READONLY")));
  ASSERT_OK(raw.Command({"REPLICAOF", "NO", "ONE"}));
  EXPECT_EQ(Write(View({Row("k", 2, {"a2", "b"})})), 1);
  EXPECT_EQ(F1("k"), "a2");
}

TEST_F(OnlineStoreTest, DeadlinesAreKept) {
  std::vector<std::string> fields = {"f"};
  std::vector<HashGet> gets = {{"k", &fields}};
  EXPECT_THAT(session_->MultiGet(gets, absl::Now() - absl::Milliseconds(1),
                                 [](size_t, size_t, const char*, size_t) {}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(OnlineStoreTest, RemovingAViewTouchesOnlyItsProjectAndIncarnation) {
  // 2500 keys of "shop", so the scan takes several pages; "workshop" ends the same way.
  std::vector<RowWrite> shop_rows;
  for (int i = 0; i < 2500; ++i) shop_rows.push_back(Row(Key(i, "shop"), 1, {"a", "b"}));
  EXPECT_EQ(Write(View(shop_rows, /*view_version=*/3)), 2500);
  EXPECT_EQ(Write(View({Row(Key(1, "workshop"), 1, {"w", "w"})}, 3)), 1);
  // The view was created again (version 9) and wrote key 7 before the removal ran.
  EXPECT_EQ(Write(View({Row(Key(7, "shop"), 0, {"new", "new"})}, /*view_version=*/9)), 1);
  // Another view of the same keys.
  ASSERT_OK(
      session_
          ->WriteNewer({"other", {"o1"}, 3, absl::ZeroDuration(), {Row(Key(1, "shop"), 1, {"o"})}},
                       absl::Now() + kDeadline)
          .status());

  ViewRemoval removal{
      .project = "shop", .view = "v", .feature_fields = {"f1", "f2"}, .view_version = 3};
  RemovalProgress progress;
  int pages = 0;
  while (!progress.done) {
    ASSERT_OK(session_->RemoveView(removal, &progress, absl::Now() + kDeadline));
    ++pages;
  }
  EXPECT_GT(pages, 1);
  EXPECT_EQ(progress.rows_removed, 2499);
  EXPECT_GE(progress.keys_scanned, 2500);
  EXPECT_THAT(
      Read(*session_, {Key(0, "shop"), Key(1, "shop")}, {"f1", "f2", "_ts:v", "_created:v"}),
      ElementsAre(ElementsAre("<nil>", "<nil>", "<nil>", "<nil>"),
                  ElementsAre("<nil>", "<nil>", "<nil>", "<nil>")));
  EXPECT_EQ(F1(Key(7, "shop")), "new");
  EXPECT_EQ(F1(Key(1, "workshop")), "w");
  EXPECT_EQ(Read(*session_, {Key(1, "shop")}, {"o1"})[0][0], "o");
  // A hash left with no fields is gone.
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK_AND_ASSIGN(redis::Reply exists, raw.Command({"EXISTS", Key(0, "shop")}));
  EXPECT_EQ(exists.integer, 0);
  // Running it again changes nothing.
  RemovalProgress again;
  while (!again.done) ASSERT_OK(session_->RemoveView(removal, &again, absl::Now() + kDeadline));
  EXPECT_EQ(again.rows_removed, 0);
}

// An AsyncRead that copies its fields and signals when done.
class CollectingRead : public AsyncRead {
 public:
  CollectingRead(std::vector<std::string> keys, std::vector<std::string> fields)
      : keys_(std::move(keys)), fields_(std::move(fields)) {
    for (const auto& k : keys_) gets_.push_back({k, &fields_});
    values_.assign(keys_.size(), std::vector<std::string>(fields_.size(), "<nil>"));
  }
  absl::Span<const HashGet> gets() const override { return gets_; }
  absl::Time deadline() const override { return deadline_; }
  void OnField(size_t g, size_t f, const char* data, size_t size) override {
    if (data != nullptr) values_[g][f] = std::string(data, size);
  }
  void OnGetError(size_t get, absl::string_view reason) override {
    ADD_FAILURE() << "get " << get << ": " << reason;
  }
  void Done(absl::Status status) override {
    status_ = std::move(status);
    done_.Notify();
  }
  const std::vector<std::vector<std::string>>& Wait() {
    done_.WaitForNotification();
    EXPECT_OK(status_);
    return values_;
  }

 private:
  std::vector<std::string> keys_, fields_;
  std::vector<HashGet> gets_;
  absl::Time deadline_ = absl::Now() + kDeadline;
  std::vector<std::vector<std::string>> values_;
  absl::Status status_;
  absl::Notification done_;
};

TEST_F(OnlineStoreTest, AsyncReadsGoThroughEveryPipeline) {
  EXPECT_EQ(Write(View({Row("k1", 1, {"a1", "b1"}), Row("k2", 1, {"a2", "b2"})})), 2);
  std::vector<std::unique_ptr<CollectingRead>> reads;
  for (int i = 0; i < 6; ++i) {  // more reads than pipelines: each pipeline serves some
    reads.push_back(std::make_unique<CollectingRead>(std::vector<std::string>{"k2", "k1", "k3"},
                                                     std::vector<std::string>{"f2", "_ts:v"}));
    store_->ReadAsync(reads.back().get());
  }
  for (auto& read : reads) {
    const auto& values = read->Wait();
    EXPECT_EQ(values[0][0], "b2");
    EXPECT_EQ(values[1][0], "b1");
    EXPECT_EQ(values[1][1], Ts(absl::FromUnixSeconds(1)));
    EXPECT_THAT(values[2], ElementsAre("<nil>", "<nil>"));
  }
}

TEST(OnlineStoreAclTest, AReadOnlyUserReadsButCannotWrite) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start({.config_lines = {
                                                            "user writer on >w ~* +@all",
                                                            "user reader on >r ~* +@read +ping",
                                                        }}));
  redis::RedisOptions writer = OptionsFor(*server);
  writer.user = "writer";
  writer.password = config::Secret::FromValue("w");
  RedisOnlineStore writable(writer);
  ASSERT_OK(
      writable.NewSession()->WriteNewer(View({Row("k", 1, {"a", "b"})}), absl::Now() + kDeadline));
  redis::RedisOptions reader = OptionsFor(*server);
  reader.user = "reader";
  reader.password = config::Secret::FromValue("r");
  RedisOnlineStore readonly(reader);
  auto session = readonly.NewSession();
  EXPECT_THAT(Read(*session, {"k"}, {"f1"})[0], ElementsAre("a"));
  EXPECT_THAT(session->WriteNewer(View({Row("k", 2, {"x", "y"})}), absl::Now() + kDeadline),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NOPERM")));
}

}  // namespace
}  // namespace granary::onlinestore
