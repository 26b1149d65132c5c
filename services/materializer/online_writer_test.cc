// The online writer against a real Redis: newest (event, created) wins over the whole range
// of times, rows are stamped with the view's incarnation, a batch for a view created again
// since is refused for good, a catalog behind the batch is waited for, a key of another type
// fails its row alone, and Redis out of memory is trouble that passes, not poison.
#include "services/materializer/online_writer.h"

#include <atomic>

#include "gmock/gmock.h"
#include "granary/types/v1/online_row.pb.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "services/materializer/writer_test_catalog.h"

namespace granary::materializer {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

// Redis, counting the writes asked of it.
class CountingStore : public onlinestore::OnlineStore {
 public:
  explicit CountingStore(const redis::RedisOptions& options) : redis_(options) {}
  std::unique_ptr<onlinestore::OnlineStoreSession> NewSession() override {
    return std::make_unique<Session>(redis_.NewSession(), &writes);
  }
  void ReadAsync(onlinestore::AsyncRead* read) override { redis_.ReadAsync(read); }
  std::atomic<int> writes{0};

 private:
  class Session : public onlinestore::OnlineStoreSession {
   public:
    Session(std::unique_ptr<onlinestore::OnlineStoreSession> inner, std::atomic<int>* writes)
        : inner_(std::move(inner)), writes_(writes) {}
    absl::Status MultiGet(absl::Span<const onlinestore::HashGet> gets, absl::Time deadline,
                          onlinestore::FieldVisitor visit) override {
      return inner_->MultiGet(gets, deadline, visit);
    }
    absl::StatusOr<onlinestore::WriteResult> WriteNewer(const onlinestore::ViewWrite& write,
                                                        absl::Time deadline) override {
      ++*writes_;
      return inner_->WriteNewer(write, deadline);
    }
    absl::Status RemoveView(const onlinestore::ViewRemoval& removal,
                            onlinestore::RemovalProgress* progress, absl::Time deadline) override {
      return inner_->RemoveView(removal, progress, deadline);
    }
    absl::Status Ping(absl::Time deadline) override { return inner_->Ping(deadline); }

   private:
    std::unique_ptr<onlinestore::OnlineStoreSession> inner_;
    std::atomic<int>* writes_;
  };
  onlinestore::RedisOnlineStore redis_;
};

class OnlineWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, testing::RedisServer::Start());
    options_.host = redis_->host();
    options_.port = redis_->port();
    catalog_ = WriterTestCatalog();
    store_ = std::make_shared<CountingStore>(options_);
    writer_ = std::make_unique<OnlineWriter>(
        store_,
        [this](const std::string&) {
          return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog_);
        },
        std::make_shared<WriterMetrics>(registry_), absl::Seconds(5));
  }
  // What driver's hash holds: the note and the stored meta.
  std::string Note(int64_t driver) {
    redis::Client raw(options_);
    types::v1::Value id;
    id.set_int64_val(driver);
    absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", id}}, "shop");
    absl::StatusOr<redis::Reply> got =
        raw.Command({"HGET", *key, keys::FeatureField("driver_stats", "note")});
    types::v1::Value v;
    if (!got.ok() || got->is_nil() || !v.ParseFromString(got->str)) return "<none>";
    return v.string_val();
  }
  // One string feature of `view` (incarnation `version`) for `driver`, written as another
  // writer would, past the writer under test.
  void WriteDirectly(const std::string& view, int64_t version, const std::string& feature,
                     int64_t driver, absl::Time at, const std::string& text) {
    onlinestore::ViewWrite write;
    write.view = view;
    write.view_version = version;
    write.feature_fields = {keys::FeatureField(view, feature)};
    types::v1::Value value, id;
    value.set_string_val(text);
    id.set_int64_val(driver);
    ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey({{"driver_id", id}}, "shop"));
    write.rows.push_back({key, at, at, {value.SerializeAsString()}});
    ASSERT_OK(store_->NewSession()->WriteNewer(write, absl::Now() + absl::Seconds(5)).status());
  }

  // The raw bytes of a field of driver's hash ("<none>" when not set).
  std::string Raw(int64_t driver, const std::string& field) {
    redis::Client raw(options_);
    types::v1::Value id;
    id.set_int64_val(driver);
    absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", id}}, "shop");
    absl::StatusOr<redis::Reply> got = raw.Command({"HGET", *key, field});
    return !got.ok() || got->is_nil() ? "<none>" : got->str;
  }
  std::string Shout(int64_t driver) {
    const std::string raw = Raw(driver, keys::FeatureField("note_shout", "shout"));
    if (raw == keys::FailedValue()) return "<failed>";
    types::v1::Value v;
    if (raw == "<none>" || !v.ParseFromString(raw)) return "<none>";
    return v.string_val();
  }
  types::v1::OnlineRowMeta Meta(int64_t driver) {
    redis::Client raw(options_);
    types::v1::Value id;
    id.set_int64_val(driver);
    absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", id}}, "shop");
    types::v1::OnlineRowMeta meta;
    absl::StatusOr<redis::Reply> got =
        raw.Command({"HGET", *key, keys::CreatedField("driver_stats")});
    if (got.ok()) meta.ParseFromString(got->str);
    return meta;
  }

  prometheus::Registry registry_;
  std::unique_ptr<testing::RedisServer> redis_;
  redis::RedisOptions options_;
  std::shared_ptr<const registry_client::Catalog> catalog_;
  std::shared_ptr<CountingStore> store_;
  std::unique_ptr<OnlineWriter> writer_;
};

TEST_F(OnlineWriterTest, TheNewestRowWinsOverTheWholeRangeOfTimes) {
  const absl::Time year1 =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  ASSERT_OK(writer_->Write(TestBatch("b1", {{1, year1, At(0), "year 1"}})).status());
  ASSERT_OK(writer_->Write(TestBatch("b2", {{1, At(-1), At(0), "1969"}})).status());
  EXPECT_EQ(Note(1), "1969");
  ASSERT_OK(writer_->Write(TestBatch("b3", {{1, At(-2), At(0), "older 1969"}})).status());
  EXPECT_EQ(Note(1), "1969");
  // Same event time, created later: the correction wins.
  ASSERT_OK(writer_->Write(TestBatch("b4", {{1, At(-1), At(10), "corrected"}})).status());
  EXPECT_EQ(Note(1), "corrected");
  ASSERT_OK(writer_->Write(TestBatch("b5", {{1, At(-1), At(5), "stale"}})).status());
  EXPECT_EQ(Note(1), "corrected");
  types::v1::OnlineRowMeta meta = Meta(1);
  EXPECT_EQ(meta.view_version(), 3);
  EXPECT_EQ(meta.created_seconds(), 10);
}

// note_shout (ON_WRITE) reads driver_stats' note: computed from each batch's rows and stored
// under the same guard, so it always belongs to the stored note.
TEST_F(OnlineWriterTest, WriteTimeOnDemandViewsAreComputedAndStoredWithTheirSourceRows) {
  ASSERT_OK(
      writer_
          ->Write(TestBatch("b1", {{1, At(100), At(100), "hello"}, {2, At(100), At(100), "bad"}}))
          .status());
  EXPECT_EQ(Shout(1), "HELLO!");
  // The expression failed for driver 2's row: stored as failed (served INVALID), the rest
  // written.
  EXPECT_EQ(Shout(2), "<failed>");
  EXPECT_EQ(Note(2), "bad");
  EXPECT_EQ(Raw(1, keys::TimestampField("note_shout")),
            Raw(1, keys::TimestampField("driver_stats")));
  // An older row changes neither the note nor its output; a newer one changes both.
  ASSERT_OK(writer_->Write(TestBatch("b2", {{1, At(50), At(50), "older"}})).status());
  EXPECT_EQ(Note(1), "hello");
  EXPECT_EQ(Shout(1), "HELLO!");
  ASSERT_OK(
      writer_
          ->Write(TestBatch("b3", {{1, At(200), At(200), "newer"}, {2, At(200), At(200), "fine"}}))
          .status());
  EXPECT_EQ(Shout(1), "NEWER!");
  EXPECT_EQ(Shout(2), "FINE!");
  bool counted = false;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "granary_materializer_on_demand_failures_total") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].counter.value, 1);
    counted = true;
  }
  EXPECT_TRUE(counted) << "no granary_materializer_on_demand_failures_total";
}

// A source row stored before the write-time view existed (or by another path): an older row
// arriving later loses for the source, and must not leave its outputs beside the newer inputs;
// writing the stored row again (materializing again) fills them in.
TEST_F(OnlineWriterTest, WriteTimeOutputsFollowTheStoredSourceRowNotTheirOwnGuard) {
  ASSERT_NO_FATAL_FAILURE(WriteDirectly("driver_stats", 3, "note", 7, At(100), "stored first"));
  ASSERT_EQ(Shout(7), "<none>");  // the precondition: no outputs stored yet
  ASSERT_OK(writer_->Write(TestBatch("old", {{7, At(50), At(50), "older"}})).status());
  EXPECT_EQ(Note(7), "stored first");
  EXPECT_EQ(Shout(7), "<none>") << "an older row's outputs were stored beside newer inputs";
  ASSERT_OK(writer_->Write(TestBatch("again", {{7, At(100), At(100), "stored first"}})).status());
  EXPECT_EQ(Shout(7), "STORED FIRST!");

  // Outputs of a newer incarnation of the view (written by a replica that has the new catalog)
  // are never overwritten by a writer still on the old one (note_shout at version 5 here).
  ASSERT_NO_FATAL_FAILURE(WriteDirectly("note_shout", 9, "shout", 7, At(100), "from version 9"));
  ASSERT_OK(writer_->Write(TestBatch("later", {{7, At(200), At(200), "later"}})).status());
  EXPECT_EQ(Note(7), "later");
  EXPECT_EQ(Shout(7), "from version 9");
}

TEST_F(OnlineWriterTest, ABatchForAViewCreatedAgainIsRefusedForGood) {
  events::v1::PushBatch old = TestBatch("b1", {{1, At(100), At(100), "old view"}});
  old.set_view_version(2);  // accepted for the view created at version 2, since deleted
  EXPECT_THAT(writer_->Write(old), StatusIs(absl::StatusCode::kFailedPrecondition,
                                            HasSubstr("deleted and created again")));
  EXPECT_EQ(Note(1), "<none>");
  events::v1::PushBatch ghost = TestBatch("b2", {{1, At(100), At(100), "x"}});
  ghost.set_feature_view("gone");
  EXPECT_THAT(writer_->Write(ghost), StatusIs(absl::StatusCode::kFailedPrecondition,
                                              HasSubstr("feature view gone is no longer")));
  // Checked against a newer catalog than the one held: wait for it (passes).
  events::v1::PushBatch ahead = TestBatch("b3", {{1, At(100), At(100), "x"}});
  ahead.set_registry_version(6);
  EXPECT_THAT(writer_->Write(ahead), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(OnlineWriterTest, AFeatureRemovedSinceTheBatchWasAcceptedIsLeftOutTheRestWritten) {
  events::v1::PushBatch batch = TestBatch("b1", {{1, At(100), At(100), "kept"}});
  batch.set_features(1, "removed_meanwhile");  // "seen" in the batch, gone from the view
  ASSERT_OK(writer_->Write(batch).status());
  EXPECT_EQ(Note(1), "kept");
  redis::Client raw(options_);
  types::v1::Value id;
  id.set_int64_val(1);
  ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey({{"driver_id", id}}, "shop"));
  ASSERT_OK_AND_ASSIGN(
      redis::Reply removed,
      raw.Command({"HEXISTS", key, keys::FeatureField("driver_stats", "removed_meanwhile")}));
  EXPECT_EQ(removed.integer, 0);
}

TEST_F(OnlineWriterTest, AKeyHoldingAnotherTypeFailsItsRowAlone) {
  redis::Client raw(options_);
  types::v1::Value id;
  id.set_int64_val(2);
  ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey({{"driver_id", id}}, "shop"));
  ASSERT_OK(raw.Command({"SET", key, "someone else's"}));
  ASSERT_OK_AND_ASSIGN(
      SinkResult result,
      writer_->Write(TestBatch(
          "b1", {{1, At(1), At(1), "one"}, {2, At(1), At(1), "two"}, {3, At(1), At(1), "three"}})));
  EXPECT_THAT(result.rejected_rows, ElementsAre(1));
  EXPECT_THAT(result.reason, HasSubstr("WRONGTYPE"));
  EXPECT_EQ(Note(1), "one");
  EXPECT_EQ(Note(3), "three");
}

TEST_F(OnlineWriterTest, BatchesWrittenTogetherAnswerEachForItself) {
  redis::Client raw(options_);
  types::v1::Value id;
  id.set_int64_val(5);
  ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey({{"driver_id", id}}, "shop"));
  ASSERT_OK(raw.Command({"SET", key, "someone else's"}));
  events::v1::PushBatch first =
      TestBatch("b1", {{1, At(1), At(1), "one"}, {2, At(1), At(1), "two"}});
  events::v1::PushBatch ghost = TestBatch("b2", {{3, At(1), At(1), "three"}});
  ghost.set_feature_view("gone");
  events::v1::PushBatch third = TestBatch(
      "b3", {{4, At(1), At(1), "four"}, {5, At(1), At(1), "five"}, {1, At(2), At(2), "one again"}});
  events::v1::PushBatch fewer = TestBatch("b4", {{6, At(1), At(1), "six"}});
  fewer.set_features(1, "removed_meanwhile");  // other columns: written apart, still answered
  const events::v1::PushBatch* batches[] = {&first, &ghost, &third, &fewer};
  std::vector<absl::StatusOr<SinkResult>> results = writer_->WriteAll(batches);
  ASSERT_EQ(results.size(), 4);
  // first and third share one write; fewer (other columns) has its own; ghost none. Each is
  // followed by the write of note_shout, the write-time view driver_stats feeds.
  EXPECT_EQ(store_->writes.load(), 2 * 2);
  ASSERT_OK(results[0].status());
  EXPECT_TRUE(results[0]->rejected_rows.empty());
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("gone")));
  ASSERT_OK(results[2].status());
  EXPECT_THAT(results[2]->rejected_rows, ElementsAre(1));  // its own row index, not the merged
  EXPECT_THAT(results[2]->reason, HasSubstr("WRONGTYPE"));
  ASSERT_OK(results[3].status());
  EXPECT_TRUE(results[3]->rejected_rows.empty());
  EXPECT_EQ(Note(1), "one again");
  EXPECT_EQ(Note(2), "two");
  EXPECT_EQ(Note(3), "<none>");
  EXPECT_EQ(Note(4), "four");
  EXPECT_EQ(Note(6), "six");
}

TEST_F(OnlineWriterTest, RedisOutOfMemoryIsTroubleThatPasses) {
  redis::Client raw(options_);
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory", "1"}));
  absl::StatusOr<SinkResult> full = writer_->Write(TestBatch("b1", {{1, At(1), At(1), "x"}}));
  EXPECT_THAT(full, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("OOM")));
  EXPECT_FALSE(IsPermanent(full.status()));
  const events::v1::PushBatch together = TestBatch("b2", {{2, At(1), At(1), "y"}});
  const events::v1::PushBatch* batches[] = {&together, &together};
  for (const absl::StatusOr<SinkResult>& each : writer_->WriteAll(batches)) {
    EXPECT_THAT(each, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("OOM")));
  }
  ASSERT_OK(raw.Command({"CONFIG", "SET", "maxmemory", "0"}));
  ASSERT_OK(writer_->Write(TestBatch("b1", {{1, At(1), At(1), "x"}})).status());
  EXPECT_EQ(Note(1), "x");
}

}  // namespace
}  // namespace granary::materializer
