// The push handler: a fetch's batches go to a sink that writes together in runs bounded in
// bytes, each message settled once, for its own batch (undecodable, not for this sink,
// refused, partly refused), as soon as its run is written; the messages not settled yet are
// kept alive whenever the fetch has taken long; a sink that does not write together gets one
// batch at a time.
#include "services/materializer/push_handler.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/base/clock.h"
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
// batches named "partly"; each call moves `clock` (if any) on by `takes`.
class RecordingSink : public BatchSink {
 public:
  explicit RecordingSink(bool together, base::FakeClock* clock = nullptr,
                         absl::Duration takes = absl::ZeroDuration())
      : together_(together), clock_(clock), takes_(takes) {}
  // Messages settled so far, seen at each call (set by the test).
  const int* settled = nullptr;
  std::vector<int> settled_at_call;
  const char* name() const override { return "online"; }
  bool Wants(const events::v1::PushBatch& batch) const override { return batch.online(); }
  bool writes_together() const override { return together_; }
  absl::StatusOr<SinkResult> Write(const events::v1::PushBatch& batch) override {
    calls.push_back({batch.batch_id()});
    Takes();
    return Result(batch);
  }
  std::vector<absl::StatusOr<SinkResult>> WriteAll(
      absl::Span<const events::v1::PushBatch* const> batches) override {
    std::vector<absl::StatusOr<SinkResult>> out;
    if (settled != nullptr) settled_at_call.push_back(*settled);
    calls.emplace_back();
    for (const events::v1::PushBatch* batch : batches) {
      calls.back().push_back(batch->batch_id());
      out.push_back(Result(*batch));
    }
    Takes();
    return out;
  }
  std::vector<std::vector<std::string>> calls;

 private:
  void Takes() {
    if (clock_ != nullptr) clock_->Advance(takes_);
  }
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
  base::FakeClock* clock_;
  const absl::Duration takes_;
};

// A batch of `rows` empty rows: two bytes each on the wire.
std::string Batch(const std::string& id, int rows, bool online = true) {
  events::v1::PushBatch batch;
  batch.set_batch_id(id);
  batch.set_online(online);
  for (int r = 0; r < rows; ++r) batch.add_rows();
  return batch.SerializeAsString();
}

struct Fetch {
  std::vector<std::unique_ptr<TestMessage>> messages;
  std::vector<bus::Message*> pointers;
  void Add(std::string data) {
    messages.push_back(std::make_unique<TestMessage>(std::move(data)));
    pointers.push_back(messages.back().get());
  }
};

// Handles `fetch`, each message's answer in its place; fails the test if one is settled twice.
std::vector<std::optional<Handled>> HandleAll(MessageHandler& handler, Fetch& fetch,
                                              const base::Clock& clock,
                                              absl::Duration every = absl::InfiniteDuration(),
                                              int* settled = nullptr) {
  std::vector<std::optional<Handled>> out(fetch.pointers.size());
  handler.HandleAll(fetch.pointers, {.every = every, .clock = &clock},
                    [&](size_t i, Handled handled) {
                      EXPECT_FALSE(out[i].has_value()) << "message " << i << " settled twice";
                      out[i] = std::move(handled);
                      if (settled != nullptr) ++*settled;
                    });
  return out;
}

TEST(PushHandlerTest, AFetchIsWrittenInRunsAndEachMessageSettledForItsOwnBatch) {
  auto sink = std::make_shared<RecordingSink>(/*together=*/true);
  PushHandler handler(sink);
  static_assert(PushHandler::kBytesTogether == 256 << 10, "the sizes below assume 256 KiB");
  Fetch fetch;
  fetch.Add(Batch("a", 60'000));  // 120 KB
  fetch.Add("\xff not a batch");
  fetch.Add(Batch("offline only", 10, false));
  fetch.Add(Batch("refused", 40'000));  // 200 KB with the above: one run
  fetch.Add(Batch("partly", 40'000));   // past 256 KiB: the next run
  fetch.Add(Batch("big", 200'000));     // 400 KB: alone
  fetch.Add(Batch("last", 1));
  base::FakeClock clock;
  int settled = 0;
  sink->settled = &settled;
  std::vector<std::optional<Handled>> handled =
      HandleAll(handler, fetch, clock, absl::InfiniteDuration(), &settled);
  EXPECT_THAT(sink->calls, ElementsAre(ElementsAre("a", "refused"), ElementsAre("partly"),
                                       ElementsAre("big"), ElementsAre("last")));
  // Each run settled before the next is written: what needs no write at once, then each run.
  EXPECT_THAT(sink->settled_at_call, ElementsAre(2, 4, 5, 6));
  for (const auto& h : handled) ASSERT_TRUE(h.has_value());
  EXPECT_OK(handled[0]->status);
  EXPECT_FALSE(handled[0]->rejected.has_value());
  EXPECT_THAT(handled[1]->status, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("undecodable")));
  EXPECT_OK(handled[2]->status);
  EXPECT_TRUE(handled[2]->skipped);
  EXPECT_THAT(handled[3]->status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(handled[4]->status);
  ASSERT_TRUE(handled[4]->rejected.has_value());
  EXPECT_THAT(handled[4]->rejected->reason, HasSubstr("1 of 40000 rows not written: WRONGTYPE"));
  events::v1::PushBatch part;
  ASSERT_TRUE(part.ParseFromString(handled[4]->rejected->payload));
  EXPECT_EQ(part.rows_size(), 1);
  EXPECT_EQ(part.batch_id(), "partly:online-rejected");
  EXPECT_OK(handled[5]->status);
  EXPECT_OK(handled[6]->status);
  for (const auto& m : fetch.messages) EXPECT_EQ(m->kept_alive, 0);
}

TEST(PushHandlerTest, MessagesNotSettledYetAreKeptAliveWheneverTheFetchHasTakenLong) {
  base::FakeClock clock;
  // Each run takes 20 s; messages are kept alive every 10 s.
  auto sink = std::make_shared<RecordingSink>(/*together=*/true, &clock, absl::Seconds(20));
  PushHandler handler(sink);
  Fetch fetch;
  for (int i = 0; i < 3; ++i) fetch.Add(Batch("b", 100'000));  // 200 KB: a run each
  std::vector<std::optional<Handled>> handled = HandleAll(handler, fetch, clock, absl::Seconds(10));
  ASSERT_EQ(sink->calls.size(), 3);
  for (const auto& h : handled) ASSERT_TRUE(h.has_value() && h->status.ok());
  EXPECT_EQ(fetch.messages[0]->kept_alive, 0);  // written at once
  EXPECT_EQ(fetch.messages[1]->kept_alive, 1);  // before the second run
  EXPECT_EQ(fetch.messages[2]->kept_alive, 2);  // and again before the third
}

TEST(PushHandlerTest, ASinkThatDoesNotWriteTogetherGetsOneBatchAtATime) {
  base::FakeClock clock;
  auto sink = std::make_shared<RecordingSink>(/*together=*/false, &clock, absl::Seconds(20));
  PushHandler handler(sink);
  Fetch fetch;
  fetch.Add(Batch("a", 1));
  fetch.Add(Batch("refused", 1));
  fetch.Add(Batch("c", 1));
  std::vector<std::optional<Handled>> handled = HandleAll(handler, fetch, clock, absl::Seconds(10));
  EXPECT_THAT(sink->calls, ElementsAre(ElementsAre("a"), ElementsAre("refused"), ElementsAre("c")));
  for (const auto& h : handled) ASSERT_TRUE(h.has_value());
  EXPECT_OK(handled[0]->status);
  EXPECT_THAT(handled[1]->status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(handled[2]->status);
  EXPECT_EQ(fetch.messages[0]->kept_alive, 0);
  EXPECT_EQ(fetch.messages[1]->kept_alive, 1);
  EXPECT_EQ(fetch.messages[2]->kept_alive, 2);
}

}  // namespace
}  // namespace granary::materializer
