#include "libs/onlinestore/redis_online_store.h"

#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::onlinestore {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;

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
  return {key, t, Ts(t), std::move(values)};
}

ViewWrite View(std::vector<RowWrite> rows) {
  return {"_ts:v", {"f1", "f2"}, absl::ZeroDuration(), std::move(rows)};
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
  ASSERT_OK_AND_ASSIGN(int64_t n, session_->WriteNewer(View({Row("k", 100, {"a100", "b100"})}),
                                                       absl::Now() + kDeadline));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(
      n, session_->WriteNewer(View({Row("k", 50, {"a50", "b50"})}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(
      n, session_->WriteNewer(View({Row("k", 100, {"again", "again"})}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 0);
  EXPECT_THAT(Read(*session_, {"k"}, {"f1", "f2"})[0], ElementsAre("a100", "b100"));
  // Newer by nanoseconds is newer.
  RowWrite later = Row("k", 100, {"a100n", ""});
  later.event_time += absl::Nanoseconds(1);
  later.timestamp = Ts(later.event_time);
  ASSERT_OK_AND_ASSIGN(n, session_->WriteNewer(View({later}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 1);
  // An empty value left f2 as it was.
  EXPECT_THAT(Read(*session_, {"k"}, {"f1", "f2", "_ts:v"})[0],
              ElementsAre("a100n", "b100", Ts(later.event_time)));
}

TEST_F(OnlineStoreTest, ATimestampFeastWroteIsRespected) {
  // Feast stores "_ts:<view>" as a serialized Timestamp too; an older write must not win.
  redis::Client raw(OptionsFor(*redis_));
  absl::Time feast_time = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250);
  ASSERT_OK(raw.Command({"HSET", "k", "_ts:v", Ts(feast_time), "f1", "feast"}));
  ASSERT_OK_AND_ASSIGN(int64_t n, session_->WriteNewer(View({Row("k", 1700000000, {"x", "y"})}),
                                                       absl::Now() + kDeadline));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(
      n, session_->WriteNewer(View({Row("k", 1700000001, {"x", "y"})}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 1);
}

TEST_F(OnlineStoreTest, ManyRowsAndKeyExpiry) {
  std::vector<RowWrite> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(Row(absl::StrCat("k", i), 10, {"a", "b"}));
  ViewWrite write = View(rows);
  write.key_ttl = absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(int64_t n, session_->WriteNewer(write, absl::Now() + kDeadline));
  EXPECT_EQ(n, 1000);
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
        int64_t second = rng() % 10000;
        ASSERT_OK(
            session->WriteNewer(View({Row("shared", second, {absl::StrCat("v", second), ""})}),
                                absl::Now() + kDeadline));
      }
    });
  }
  for (auto& w : writers) w.join();
  // The stored row is the newest of all 800, whoever wrote it last.
  int64_t newest = 0;
  for (int t = 0; t < 4; ++t) {
    std::mt19937 rng(t);
    for (int i = 0; i < 200; ++i) newest = std::max<int64_t>(newest, rng() % 10000);
  }
  EXPECT_THAT(Read(*session_, {"shared"}, {"f1", "_ts:v"})[0],
              ElementsAre(absl::StrCat("v", newest), Ts(absl::FromUnixSeconds(newest))));
}

TEST_F(OnlineStoreTest, SurvivesLostScriptsAndRedisRestarts) {
  ASSERT_OK(session_->WriteNewer(View({Row("k", 1, {"a", "b"})}), absl::Now() + kDeadline));
  redis::Client raw(OptionsFor(*redis_));
  ASSERT_OK(raw.Command({"SCRIPT", "FLUSH"}));
  ASSERT_OK_AND_ASSIGN(
      int64_t n, session_->WriteNewer(View({Row("k", 2, {"a", "b"})}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 1);
  ASSERT_OK(redis_->Stop());
  EXPECT_THAT(session_->Ping(absl::Now() + kDeadline), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(redis_->Restart());
  EXPECT_OK(session_->Ping(absl::Now() + kDeadline));
  ASSERT_OK_AND_ASSIGN(
      n, session_->WriteNewer(View({Row("k", 3, {"a", "b"})}), absl::Now() + kDeadline));
  EXPECT_EQ(n, 1);
}

TEST_F(OnlineStoreTest, DeadlinesAreKept) {
  std::vector<std::string> fields = {"f"};
  std::vector<HashGet> gets = {{"k", &fields}};
  EXPECT_THAT(session_->MultiGet(gets, absl::Now() - absl::Milliseconds(1),
                                 [](size_t, size_t, const char*, size_t) {}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(OnlineStoreTest, DeletingAViewsFieldsTouchesOnlyThatProject) {
  ASSERT_OK(session_->WriteNewer(View({Row("k1proj", 1, {"a", "b"}), Row("k2proj", 1, {"a", "b"}),
                                       Row("k1other", 1, {"a", "b"})}),
                                 absl::Now() + kDeadline));
  ASSERT_OK_AND_ASSIGN(
      int64_t n, session_->DeleteFields("proj", {"f1", "f2", "_ts:v"}, absl::Now() + kDeadline));
  EXPECT_EQ(n, 2);
  EXPECT_THAT(Read(*session_, {"k1proj", "k1other"}, {"f1"}),
              ElementsAre(ElementsAre("<nil>"), ElementsAre("a")));
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
  ASSERT_OK(session_->WriteNewer(View({Row("k1", 1, {"a1", "b1"}), Row("k2", 1, {"a2", "b2"})}),
                                 absl::Now() + kDeadline));
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
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace granary::onlinestore
