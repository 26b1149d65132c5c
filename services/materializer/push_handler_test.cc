// The push handler: a fetch's batches go to a sink that writes together in runs bounded in
// rows, each message answered for its own batch (undecodable, not for this sink, refused,
// partly refused); the messages of later runs are kept alive once a fetch takes long; a sink
// that does not write together gets one batch at a time.
#include "services/materializer/push_handler.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::materializer {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TestMessage : public bus::Message {
 public:
  explicit TestMessage(std::string data) : data_(std::move(data)) {}
  absl::string_view subject() const override { return "granary.push.p.v"; }
  absl::string_view data() const override { return data_; }
  absl::string_view message_id() const override { return ""; }
  uint64_t deliveries() const override { return 1; }
  uint64_t stream_sequence() const override { return 1; }
  absl::Status Ack() override { return absl::OkStatus(); }
  absl::Status Nak(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Term() override { return absl::OkStatus(); }
  absl::Status InProgress() override {
    ++kept_alive;
    return absl::OkStatus();
  }
  int kept_alive = 0;

 private:
  std::string data_;
};

// Records the batch ids of each call; refuses batches named "refused", rejects row 0 of
// batches named "partly".
class RecordingSink : public BatchSink {
 public:
  explicit RecordingSink(bool together) : together_(together) {}
  const char* name() const override { return "online"; }
  bool Wants(const events::v1::PushBatch& batch) const override { return batch.online(); }
  bool writes_together() const override { return together_; }
  absl::StatusOr<SinkResult> Write(const events::v1::PushBatch& batch) override {
    calls.push_back({batch.batch_id()});
    return Result(batch);
  }
  std::vector<absl::StatusOr<SinkResult>> WriteAll(
      absl::Span<const events::v1::PushBatch* const> batches) override {
    std::vector<absl::StatusOr<SinkResult>> out;
    calls.emplace_back();
    for (const events::v1::PushBatch* batch : batches) {
      calls.back().push_back(batch->batch_id());
      out.push_back(Result(*batch));
    }
    return out;
  }
  std::vector<std::vector<std::string>> calls;

 private:
  static absl::StatusOr<SinkResult> Result(const events::v1::PushBatch& batch) {
    if (batch.batch_id() == "refused") return absl::FailedPreconditionError("view gone");
    SinkResult result;
    if (batch.batch_id() == "partly") {
      result.rejected_rows = {0};
      result.reason = "WRONGTYPE";
    }
    return result;
  }
  const bool together_;
};

std::string Batch(const std::string& id, int rows, bool online = true) {
  events::v1::PushBatch batch;
  batch.set_batch_id(id);
  batch.set_online(online);
  for (int r = 0; r < rows; ++r) batch.add_rows();
  return batch.SerializeAsString();
}

std::vector<bus::Message*> Pointers(std::vector<std::unique_ptr<TestMessage>>& messages) {
  std::vector<bus::Message*> out;
  for (auto& m : messages) out.push_back(m.get());
  return out;
}

TEST(PushHandlerTest, AFetchIsWrittenInRunsAndEachMessageAnsweredForItsOwnBatch) {
  auto sink = std::make_shared<RecordingSink>(/*together=*/true);
  PushHandler handler(sink);
  std::vector<std::unique_ptr<TestMessage>> messages;
  messages.push_back(std::make_unique<TestMessage>(Batch("a", 600)));
  messages.push_back(std::make_unique<TestMessage>("\xff not a batch"));
  messages.push_back(std::make_unique<TestMessage>(Batch("offline only", 10, false)));
  messages.push_back(std::make_unique<TestMessage>(Batch("refused", 400)));
  messages.push_back(std::make_unique<TestMessage>(Batch("partly", 100)));  // past 1,024 rows
  messages.push_back(std::make_unique<TestMessage>(Batch("big", 5000)));    // alone
  messages.push_back(std::make_unique<TestMessage>(Batch("last", 1)));
  std::vector<Handled> handled = handler.HandleAll(Pointers(messages), absl::InfiniteDuration());
  ASSERT_EQ(handled.size(), 7);
  EXPECT_THAT(sink->calls, ElementsAre(ElementsAre("a", "refused"), ElementsAre("partly"),
                                       ElementsAre("big"), ElementsAre("last")));
  EXPECT_OK(handled[0].status);
  EXPECT_FALSE(handled[0].rejected.has_value());
  EXPECT_THAT(handled[1].status, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("undecodable")));
  EXPECT_OK(handled[2].status);
  EXPECT_TRUE(handled[2].skipped);
  EXPECT_THAT(handled[3].status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(handled[4].status);
  ASSERT_TRUE(handled[4].rejected.has_value());
  EXPECT_THAT(handled[4].rejected->reason, HasSubstr("1 of 100 rows not written: WRONGTYPE"));
  events::v1::PushBatch part;
  ASSERT_TRUE(part.ParseFromString(handled[4].rejected->payload));
  EXPECT_EQ(part.rows_size(), 1);
  EXPECT_EQ(part.batch_id(), "partly:online-rejected");
  EXPECT_OK(handled[5].status);
  EXPECT_OK(handled[6].status);
  for (const auto& m : messages) EXPECT_EQ(m->kept_alive, 0);
}

TEST(PushHandlerTest, MessagesOfLaterRunsAreKeptAliveOnceTheFetchTookLong) {
  auto sink = std::make_shared<RecordingSink>(/*together=*/true);
  PushHandler handler(sink);
  std::vector<std::unique_ptr<TestMessage>> messages;
  for (int i = 0; i < 3; ++i) messages.push_back(std::make_unique<TestMessage>(Batch("b", 1000)));
  handler.HandleAll(Pointers(messages), absl::ZeroDuration());
  ASSERT_EQ(sink->calls.size(), 3);
  EXPECT_EQ(messages[0]->kept_alive, 0);  // written at once
  EXPECT_EQ(messages[1]->kept_alive, 1);
  EXPECT_EQ(messages[2]->kept_alive, 1);
}

TEST(PushHandlerTest, ASinkThatDoesNotWriteTogetherGetsOneBatchAtATime) {
  auto sink = std::make_shared<RecordingSink>(/*together=*/false);
  PushHandler handler(sink);
  std::vector<std::unique_ptr<TestMessage>> messages;
  messages.push_back(std::make_unique<TestMessage>(Batch("a", 1)));
  messages.push_back(std::make_unique<TestMessage>(Batch("refused", 1)));
  messages.push_back(std::make_unique<TestMessage>(Batch("c", 1)));
  std::vector<Handled> handled = handler.HandleAll(Pointers(messages), absl::InfiniteDuration());
  EXPECT_THAT(sink->calls, ElementsAre(ElementsAre("a"), ElementsAre("refused"), ElementsAre("c")));
  ASSERT_EQ(handled.size(), 3);
  EXPECT_OK(handled[0].status);
  EXPECT_THAT(handled[1].status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(handled[2].status);
}

}  // namespace
}  // namespace granary::materializer
