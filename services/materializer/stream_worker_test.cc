// The worker's settling of messages, with an in-memory consumer and publisher (JetStream itself
// is exercised in tests/integration/ingestion_test.cc): what is acknowledged, retried with
// which backoff, dead-lettered (and when), how a rejected part is kept, and when the worker
// counts as stalled.
#include "services/materializer/stream_worker.h"

#include <atomic>
#include <deque>
#include <map>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "granary/events/v1/events.pb.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"

namespace granary::materializer {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// How a message was settled.
struct Settled {
  std::string data;
  std::string how;  // "ack", "nak <delay>", "term"
};

class Hub;

// Every fake message was pushed within this trace.
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class FakeMessage : public bus::Message {
 public:
  FakeMessage(Hub* hub, std::string data, uint64_t deliveries, uint64_t sequence)
      : hub_(hub), data_(std::move(data)), deliveries_(deliveries), sequence_(sequence) {}
  absl::string_view subject() const override { return "granary.push.p.v"; }
  absl::string_view data() const override { return data_; }
  absl::string_view message_id() const override { return "p/b/v"; }
  absl::string_view traceparent() const override { return kTraceparent; }
  uint64_t deliveries() const override { return deliveries_; }
  uint64_t stream_sequence() const override { return sequence_; }
  absl::Status Ack() override;
  absl::Status Nak(absl::Duration delay) override;
  absl::Status Term() override;
  absl::Status InProgress() override { return absl::OkStatus(); }

 private:
  Hub* hub_;
  std::string data_;
  uint64_t deliveries_, sequence_;
};

// A durable consumer in memory: a nak'ed message comes back with one more delivery; every
// settlement is recorded; `Wait` returns once `n` settlements happened.
class Hub : public bus::DurableConsumers, public bus::AckedPublisher {
 public:
  void Add(std::string data) {
    absl::MutexLock lock(&mu_);
    queue_.push_back({std::move(data), 1, ++sequence_});
  }
  absl::StatusOr<std::unique_ptr<bus::MessageSource>> Bind(const std::string&,
                                                           const std::string&) override;
  using bus::AckedPublisher::PublishAsync;
  void PublishAsync(absl::string_view subject, absl::string_view data, absl::string_view msg_id,
                    absl::string_view traceparent, bus::PublishDone done) override {
    absl::Status refused;
    {
      absl::MutexLock lock(&mu_);
      refused = refuse_dead_letters;
      if (refused.ok()) {
        events::v1::DeadLetter letter;
        letter.ParseFromArray(data.data(), static_cast<int>(data.size()));
        letters.push_back(letter);
        letter_subjects.emplace_back(subject);
        letter_traceparents.emplace_back(traceparent);
        letter_ids.emplace_back(msg_id);
      }
    }
    if (!refused.ok()) return done(refused);
    done(bus::PublishAck{.sequence = 1});
  }
  int64_t max_payload() const override { return 1 << 20; }

  void Settle(const std::string& data, uint64_t deliveries, uint64_t sequence, std::string how,
              bool again) {
    absl::MutexLock lock(&mu_);
    settled.push_back({data, std::move(how)});
    if (again) queue_.push_back({data, deliveries + 1, sequence});
  }
  size_t SettledCount() {
    absl::MutexLock lock(&mu_);
    return settled.size();
  }
  std::vector<Settled> Wait(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n] { return settled.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return settled;
  }

  absl::Mutex mu_;
  struct Queued {
    std::string data;
    uint64_t deliveries, sequence;
  };
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Settled> settled ABSL_GUARDED_BY(mu_);
  std::vector<events::v1::DeadLetter> letters ABSL_GUARDED_BY(mu_);
  std::vector<std::string> letter_subjects ABSL_GUARDED_BY(mu_);
  std::vector<std::string> letter_traceparents ABSL_GUARDED_BY(mu_);
  std::vector<std::string> letter_ids ABSL_GUARDED_BY(mu_);
  absl::Status refuse_dead_letters ABSL_GUARDED_BY(mu_);
  absl::Status refuse_bind ABSL_GUARDED_BY(mu_);
  int binds ABSL_GUARDED_BY(mu_) = 0;
};

class FakeSource : public bus::MessageSource {
 public:
  explicit FakeSource(Hub* hub) : hub_(hub) {}
  absl::StatusOr<std::vector<std::unique_ptr<bus::Message>>> Fetch(
      int max, absl::Duration timeout) override {
    std::vector<std::unique_ptr<bus::Message>> out;
    absl::MutexLock lock(&hub_->mu_);
    auto any = [this] { return !hub_->queue_.empty(); };
    hub_->mu_.AwaitWithTimeout(absl::Condition(&any), timeout);
    while (!hub_->queue_.empty() && static_cast<int>(out.size()) < max) {
      Hub::Queued q = hub_->queue_.front();
      hub_->queue_.pop_front();
      out.push_back(std::make_unique<FakeMessage>(hub_, q.data, q.deliveries, q.sequence));
    }
    return out;
  }

 private:
  Hub* hub_;
};

absl::StatusOr<std::unique_ptr<bus::MessageSource>> Hub::Bind(const std::string&,
                                                              const std::string&) {
  absl::MutexLock lock(&mu_);
  ++binds;
  if (!refuse_bind.ok()) return refuse_bind;
  return std::unique_ptr<bus::MessageSource>(new FakeSource(this));
}

absl::Status FakeMessage::Ack() {
  hub_->Settle(data_, deliveries_, sequence_, "ack", false);
  return absl::OkStatus();
}
absl::Status FakeMessage::Nak(absl::Duration delay) {
  hub_->Settle(data_, deliveries_, sequence_, absl::StrCat("nak ", absl::FormatDuration(delay)),
               true);
  return absl::OkStatus();
}
absl::Status FakeMessage::Term() {
  hub_->Settle(data_, deliveries_, sequence_, "term", false);
  return absl::OkStatus();
}

// Answers each message by its data: "ok", "skip", "part", or a status code name to fail with
// for the first `failures` deliveries.
class ScriptedHandler : public MessageHandler {
 public:
  Handled Handle(bus::Message& message) override {
    std::string data(message.data());
    if (data == "ok") return {absl::OkStatus()};
    if (data == "skip") return {.status = absl::OkStatus(), .skipped = true};
    if (data == "part") {
      return {.status = absl::OkStatus(),
              .rejected = Handled::Rejected{"rows 2 and 5", "WRONGTYPE", "online-rejected"}};
    }
    if (message.deliveries() > static_cast<uint64_t>(failures.load())) return {absl::OkStatus()};
    static const std::map<std::string, absl::StatusCode> kCodes = {
        {"UNAVAILABLE", absl::StatusCode::kUnavailable},
        {"FAILED_PRECONDITION", absl::StatusCode::kFailedPrecondition},
        {"DATA_LOSS", absl::StatusCode::kDataLoss}};
    return {absl::Status(kCodes.at(data), absl::StrCat("failing with ", data))};
  }
  std::atomic<int> failures{1000};  // set by the test while the worker reads it
};

class StreamWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_shared<WriterMetrics>(registry_);
    hub_ = std::make_shared<Hub>();
    handler_ = std::make_shared<ScriptedHandler>();
  }
  void Start(StreamWorkerOptions options = {}, const base::Clock* clock = &base::Clock::Real()) {
    options.stream = "GRANARY_PUSH";
    options.durable = "online-writer";
    options.min_backoff = absl::Milliseconds(1);
    options.max_backoff = absl::Milliseconds(4);
    options.fetch_wait = absl::Milliseconds(20);
    worker_ = std::make_unique<StreamWorker>(options, hub_, hub_, handler_, metrics_, clock);
    worker_->Start();
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  prometheus::Registry registry_;
  std::shared_ptr<WriterMetrics> metrics_;
  std::shared_ptr<Hub> hub_;
  std::shared_ptr<ScriptedHandler> handler_;
  std::unique_ptr<StreamWorker> worker_;
};

TEST(IsPermanentTest, OnlyWhatCanNeverSucceed) {
  EXPECT_TRUE(IsPermanent(absl::FailedPreconditionError("view deleted")));
  EXPECT_TRUE(IsPermanent(absl::InvalidArgumentError("malformed")));
  EXPECT_TRUE(IsPermanent(absl::DataLossError("undecodable")));
  for (absl::Status passing :
       {absl::UnavailableError("redis: OOM"), absl::UnavailableError("redis: READONLY"),
        absl::InternalError("redis: ERR something new"), absl::PermissionDeniedError("revoked"),
        absl::ResourceExhaustedError("full"), absl::DeadlineExceededError("slow"),
        absl::NotFoundError("table"), absl::AbortedError("deadlock")}) {
    EXPECT_FALSE(IsPermanent(passing)) << passing;
  }
}

TEST_F(StreamWorkerTest, SuccessesAreAcknowledgedAndSkipsToo) {
  hub_->Add("ok");
  hub_->Add("skip");
  Start();
  std::vector<Settled> settled = hub_->Wait(2);
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_EQ(settled[0].how, "ack");
  EXPECT_EQ(settled[1].how, "ack");
}

TEST_F(StreamWorkerTest, BackendTroubleIsRetriedWithGrowingBackoffAndNeverDeadLettered) {
  handler_->failures = 8;  // far more than max_deliveries
  hub_->Add("UNAVAILABLE");
  Start({.max_deliveries = 2});
  std::vector<Settled> settled = hub_->Wait(9);
  ASSERT_EQ(settled.size(), 9u);
  std::vector<std::string> how;
  for (const Settled& s : settled) how.push_back(s.how);
  EXPECT_THAT(how, ElementsAre("nak 1ms", "nak 2ms", "nak 4ms", "nak 4ms", "nak 4ms", "nak 4ms",
                               "nak 4ms", "nak 4ms", "ack"));
  absl::MutexLock lock(&hub_->mu_);
  EXPECT_TRUE(hub_->letters.empty());
}

TEST_F(StreamWorkerTest, WhatCanNeverSucceedIsDeadLetteredAfterMaxDeliveriesThenTerminated) {
  hub_->Add("FAILED_PRECONDITION");
  Start({.max_deliveries = 3});
  std::vector<Settled> settled = hub_->Wait(3);
  ASSERT_EQ(settled.size(), 3u);
  EXPECT_EQ(settled[0].how, "nak 1ms");
  EXPECT_EQ(settled[1].how, "nak 2ms");
  EXPECT_EQ(settled[2].how, "term");
  absl::MutexLock lock(&hub_->mu_);
  ASSERT_EQ(hub_->letters.size(), 1u);
  const events::v1::DeadLetter& letter = hub_->letters[0];
  EXPECT_EQ(letter.payload(), "FAILED_PRECONDITION");
  EXPECT_EQ(letter.reason(), "failing with FAILED_PRECONDITION");
  EXPECT_EQ(letter.deliveries(), 3u);
  EXPECT_EQ(letter.consumer(), "online-writer");
  EXPECT_EQ(letter.message_id(), "p/b/v");
  EXPECT_EQ(letter.stream_sequence(), 1u);
  EXPECT_FALSE(letter.partial());
  EXPECT_EQ(hub_->letter_subjects[0], "granary.deadletter.online-writer");
  EXPECT_EQ(hub_->letter_traceparents[0], kTraceparent) << "the dead letter stays in the trace";
  EXPECT_EQ(hub_->letter_ids[0], "online-writer/p/b/v");
}

TEST_F(StreamWorkerTest, ARejectedPartIsDeadLetteredAndTheMessageAcknowledged) {
  hub_->Add("part");
  Start();
  std::vector<Settled> settled = hub_->Wait(1);
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0].how, "ack");
  absl::MutexLock lock(&hub_->mu_);
  ASSERT_EQ(hub_->letters.size(), 1u);
  EXPECT_EQ(hub_->letters[0].payload(), "rows 2 and 5");
  EXPECT_TRUE(hub_->letters[0].partial());
  EXPECT_EQ(hub_->letter_ids[0], "online-writer/p/b/v/online-rejected");
}

TEST_F(StreamWorkerTest, AMessageIsKeptWhenItsDeadLetterCannotBeStored) {
  {
    absl::MutexLock lock(&hub_->mu_);
    hub_->refuse_dead_letters = absl::ResourceExhaustedError("dead letters full");
  }
  hub_->Add("DATA_LOSS");
  hub_->Add("part");
  Start({.max_deliveries = 1});
  std::vector<Settled> settled = hub_->Wait(4);
  // Neither is terminated nor acknowledged while its letter cannot be kept.
  for (const Settled& s : settled) EXPECT_THAT(s.how, HasSubstr("nak")) << s.data;
  {
    absl::MutexLock lock(&hub_->mu_);
    hub_->refuse_dead_letters = absl::OkStatus();
  }
  for (bool done = false; !done;) {
    settled = hub_->Wait(settled.size() + 1);
    int finished = 0;
    for (const Settled& s : settled) finished += s.how == "term" || s.how == "ack";
    done = finished == 2;
  }
  absl::MutexLock lock(&hub_->mu_);
  EXPECT_EQ(hub_->letters.size(), 2u);
}

TEST_F(StreamWorkerTest, FailingWithoutSuccessIsAStallThatEndsWithTheFirstSuccess) {
  handler_->failures = 1000000;
  hub_->Add("UNAVAILABLE");
  Start({.stall_after = absl::Milliseconds(50)});
  hub_->Wait(5);
  ASSERT_TRUE(testing::Eventually([&] { return !worker_->Health().ok(); }, absl::Seconds(20)));
  EXPECT_THAT(worker_->Health(), StatusIs(absl::StatusCode::kUnavailable,
                                          AllOf(HasSubstr("online-writer has written nothing"),
                                                HasSubstr("failing with UNAVAILABLE"))));
  EXPECT_GT(worker_->stalled_for(), absl::ZeroDuration());
  // The trouble passes: the next success ends the stall.
  handler_->failures = 0;
  hub_->Add("ok");
  EXPECT_TRUE(testing::Eventually([&] { return worker_->Health().ok(); }, absl::Seconds(20)));
  EXPECT_EQ(worker_->stalled_for(), absl::ZeroDuration());
}

TEST_F(StreamWorkerTest, OneMessageFailingWhileOthersPassShowsAsTheOldestFailing) {
  base::FakeClock clock;
  clock.Set(absl::FromUnixSeconds(1000));
  handler_->failures = 1000000;
  hub_->Add("UNAVAILABLE");
  Start({}, &clock);
  // It failed (at least once: it is delivered again at once, and may have failed again).
  ASSERT_GE(hub_->Wait(1).size(), 1u);
  clock.Advance(absl::Seconds(3));
  // Another message succeeds meanwhile: no stall, yet the first is still failing since then.
  hub_->Add("ok");
  for (bool acked = false; !acked;) {
    for (const Settled& s : hub_->Wait(hub_->SettledCount() + 1)) acked = acked || s.how == "ack";
  }
  const size_t before = hub_->SettledCount();
  ASSERT_GT(hub_->Wait(before + 1).size(), before);  // delivered and failed again since the ack
  EXPECT_EQ(worker_->stalled_for(), absl::ZeroDuration());
  EXPECT_EQ(worker_->oldest_failing(), absl::Seconds(3));
  // Once it succeeds, nothing is failing.
  handler_->failures = 0;
  for (bool acked = false; !acked;) {
    for (const Settled& s : hub_->Wait(hub_->SettledCount() + 1)) {
      acked = acked || (s.how == "ack" && s.data == "UNAVAILABLE");
    }
  }
  EXPECT_EQ(worker_->oldest_failing(), absl::ZeroDuration());
}

TEST_F(StreamWorkerTest, AConsumerThatCannotBeReachedIsAStallThatEndsWhenItAnswersEvenIdle) {
  {
    absl::MutexLock lock(&hub_->mu_);
    hub_->refuse_bind = absl::NotFoundError("consumer online-writer not found");
  }
  Start({.min_backoff = absl::Milliseconds(1), .stall_after = absl::Milliseconds(50)});
  ASSERT_TRUE(testing::Eventually([&] { return !worker_->Health().ok(); }, absl::Seconds(20)));
  EXPECT_THAT(worker_->Health(), StatusIs(absl::StatusCode::kUnavailable,
                                          HasSubstr("consumer online-writer not found")));
  // It keeps trying (a worker thread descheduled past stall_after may have tried only once yet).
  EXPECT_TRUE(testing::Eventually(
      [&] {
        absl::MutexLock lock(&hub_->mu_);
        return hub_->binds > 1;
      },
      absl::Seconds(20)));
  {
    absl::MutexLock lock(&hub_->mu_);
    hub_->refuse_bind = absl::OkStatus();
  }
  // Nothing to consume: answering at all ends the stall (an idle worker is not stalled).
  EXPECT_TRUE(testing::Eventually([&] { return worker_->Health().ok(); }, absl::Seconds(20)));
}

TEST_F(StreamWorkerTest, ADeadLetterThatCannotBeStoredIsAStallWhateverItsCode) {
  {
    absl::MutexLock lock(&hub_->mu_);
    // A code that would otherwise read as "this message can never succeed".
    hub_->refuse_dead_letters = absl::InvalidArgumentError("dead letter refused");
  }
  hub_->Add("DATA_LOSS");
  Start({.max_deliveries = 1, .stall_after = absl::Milliseconds(50)});
  ASSERT_TRUE(testing::Eventually([&] { return !worker_->Health().ok(); }, absl::Seconds(20)));
  EXPECT_THAT(worker_->Health(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("dead letter refused")));
}

}  // namespace
}  // namespace granary::materializer
