#include "libs/trace/tracer.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/testing/eventually.h"
#include "libs/trace/span.h"

namespace granary::trace {
namespace {

// Keeps the batches it is given (and each call's deadline); fails them or rejects some spans
// of each, as told. While held, each call waits for a permit (Permit), as a receiver that
// does not answer yet.
class ListExporter : public SpanExporter {
 public:
  absl::StatusOr<int64_t> Export(const std::vector<SpanRecord>& spans,
                                 absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    batches_.push_back(spans);
    deadlines_.push_back(deadline);
    if (!first_.HasBeenNotified()) first_.Notify();
    auto may_answer = [this]()
                          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hold_ || permits_ > 0; };
    mu_.Await(absl::Condition(&may_answer));
    if (hold_) --permits_;
    if (fail_) return absl::UnavailableError("receiver down");
    return reject_;
  }
  void Hold(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  // Lets one held call answer.
  void Permit() {
    absl::MutexLock lock(&mu_);
    ++permits_;
  }
  // Calls made so far (held ones included).
  size_t calls() {
    absl::MutexLock lock(&mu_);
    return deadlines_.size();
  }
  void Reject(int64_t n) {
    absl::MutexLock lock(&mu_);
    reject_ = n;
  }
  std::vector<absl::Time> deadlines() {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  std::vector<std::vector<SpanRecord>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  void Fail(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_ = fail;
  }
  absl::Notification& first() { return first_; }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<SpanRecord>> batches_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  bool fail_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  int permits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reject_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification first_;
};

double Outcome(prometheus::Registry& registry, const std::string& outcome) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "granary_trace_spans_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "outcome" && label.value == outcome) return metric.counter.value;
      }
    }
  }
  return -1;
}

struct Fixture {
  explicit Fixture(TracingConfig config) {
    auto owned = std::make_unique<ListExporter>();
    exporter = owned.get();
    tracer = std::make_unique<Tracer>(config, std::move(owned), &registry);
  }
  prometheus::Registry registry;
  ListExporter* exporter;
  std::unique_ptr<Tracer> tracer;
};

// Nothing is sent on a timer during these tests unless they ask for it.
TracingConfig Quiet() {
  TracingConfig config;
  config.export_interval = absl::Hours(1);
  return config;
}

size_t Total(const std::vector<std::vector<SpanRecord>>& batches) {
  size_t n = 0;
  for (const auto& b : batches) n += b.size();
  return n;
}

TEST(TracerTest, RecordsASampledSpanWithItsParentAndAttributes) {
  Fixture f(Quiet());
  std::optional<TraceContext> parent =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  {
    Span span(f.tracer.get(), "work", SpanKind::kServer, parent);
    EXPECT_TRUE(span.recording());
    span.SetAttribute("rows", int64_t{3});
    span.SetError("backend down");
  }
  f.tracer->Flush();
  auto batches = f.exporter->batches();
  ASSERT_EQ(Total(batches), 1u);
  const SpanRecord& s = batches[0][0];
  EXPECT_EQ(s.name, "work");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.context.trace_id, parent->trace_id);
  EXPECT_NE(s.context.span_id, parent->span_id);
  ASSERT_TRUE(s.parent_span_id.has_value());
  EXPECT_EQ(*s.parent_span_id, parent->span_id);
  EXPECT_TRUE(s.parent_remote);
  EXPECT_LE(s.start, s.end);
  ASSERT_EQ(s.attributes.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(s.attributes[0].second), 3);
  EXPECT_TRUE(s.error);
  EXPECT_EQ(s.error_message, "backend down");
  EXPECT_EQ(Outcome(f.registry, "exported"), 1);
}

TEST(TracerTest, AnUnsampledTraceIsPassedOnButNotRecorded) {
  TracingConfig config = Quiet();
  config.sample_ratio = 0;
  Fixture f(config);
  std::optional<TraceContext> unsampled =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  {
    Span root(f.tracer.get(), "root", SpanKind::kServer, std::nullopt);
    Span child(f.tracer.get(), "child", SpanKind::kServer, unsampled);
    EXPECT_FALSE(root.recording());
    EXPECT_FALSE(child.recording());
    // Still a context to pass on and log.
    EXPECT_TRUE(ParseTraceparent(root.context().Traceparent()).has_value());
    EXPECT_EQ(child.context().trace_id, unsampled->trace_id);
  }
  // A sampled parent is recorded whatever the ratio.
  {
    Span kept(f.tracer.get(), "kept", SpanKind::kServer,
              ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  }
  f.tracer->Flush();
  auto batches = f.exporter->batches();
  ASSERT_EQ(Total(batches), 1u);
  EXPECT_EQ(batches[0][0].name, "kept");
}

TEST(TracerTest, WithoutAnExporterNothingIsRecorded) {
  Tracer tracer(TracingConfig(), nullptr, nullptr);
  Span span(&tracer, "x", SpanKind::kInternal, std::nullopt);
  EXPECT_FALSE(span.recording());
  EXPECT_FALSE(span.context().sampled)
      << "a process that records nothing does not decide that those after it record";
}

TEST(TracerTest, AFullBatchIsSentWithoutWaitingForTheInterval) {
  TracingConfig config = Quiet();
  config.max_batch = 2;
  Fixture f(config);
  { Span a(f.tracer.get(), "a", SpanKind::kInternal, std::nullopt); }
  EXPECT_TRUE(f.exporter->batches().empty()) << "one span is not a batch";
  { Span b(f.tracer.get(), "b", SpanKind::kInternal, std::nullopt); }
  // The interval is an hour: only the full batch can have sent it.
  ASSERT_TRUE(f.exporter->first().WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(Total(f.exporter->batches()), 2u);
}

TEST(TracerTest, TheIntervalSendsWhatIsQueued) {
  TracingConfig config;
  config.export_interval = absl::Milliseconds(20);
  Fixture f(config);
  { Span a(f.tracer.get(), "a", SpanKind::kInternal, std::nullopt); }
  ASSERT_TRUE(f.exporter->first().WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(Total(f.exporter->batches()), 1u);
}

TEST(TracerTest, BatchesAreNoLargerThanMaxBatch) {
  TracingConfig config = Quiet();
  config.max_batch = 3;
  Fixture f(config);
  for (int i = 0; i < 8; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  f.tracer->Flush();
  auto batches = f.exporter->batches();
  EXPECT_EQ(Total(batches), 8u);
  for (const auto& b : batches) EXPECT_LE(b.size(), 3u);
}

TEST(TracerTest, AFullQueueDropsAndCountsInsteadOfGrowing) {
  TracingConfig config = Quiet();
  config.max_queue = 3;
  config.max_batch = 100;
  Fixture f(config);
  for (int i = 0; i < 5; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  EXPECT_EQ(Outcome(f.registry, "dropped"), 2);
  f.tracer->Flush();
  EXPECT_EQ(Total(f.exporter->batches()), 3u);
  EXPECT_EQ(Outcome(f.registry, "exported"), 3);
}

TEST(TracerTest, AFlushReturnsUnderASteadyStreamOfSpans) {
  TracingConfig config = Quiet();
  config.max_batch = 1;
  config.max_queue = 1 << 20;
  Fixture f(config);
  for (int i = 0; i < 3; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    while (!stop) Span(f.tracer.get(), "more", SpanKind::kInternal, std::nullopt);
  });
  f.tracer->Flush();  // would never return if it waited for an empty queue
  stop = true;
  producer.join();
  // What was queued when it was asked went out.
  EXPECT_GE(Total(f.exporter->batches()), 3u);
}

TEST(TracerTest, AFailedBatchIsCountedAndNotSentAgain) {
  Fixture f(Quiet());
  f.exporter->Fail(true);
  { Span a(f.tracer.get(), "a", SpanKind::kInternal, std::nullopt); }
  f.tracer->Flush();
  EXPECT_EQ(Outcome(f.registry, "failed"), 1);
  f.exporter->Fail(false);
  { Span b(f.tracer.get(), "b", SpanKind::kInternal, std::nullopt); }
  f.tracer->Flush();
  auto batches = f.exporter->batches();
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[1].size(), 1u);
  EXPECT_EQ(batches[1][0].name, "b");
  EXPECT_EQ(Outcome(f.registry, "exported"), 1);
}

TEST(TracerTest, SpansTheReceiverRejectedAreCountedAsFailed) {
  Fixture f(Quiet());
  f.exporter->Reject(2);
  for (int i = 0; i < 5; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  f.tracer->Flush();
  EXPECT_EQ(Outcome(f.registry, "exported"), 3);
  EXPECT_EQ(Outcome(f.registry, "failed"), 2);
}

// Stops the tracer on a thread of its own; the destructor lets held calls go and joins, so
// that a failed assertion cannot leave the thread running.
class StopInBackground {
 public:
  StopInBackground(Tracer* tracer, ListExporter* exporter)
      : exporter_(exporter), thread_([tracer] { tracer->Shutdown(); }) {}
  ~StopInBackground() { Join(); }
  void Join() {
    if (!thread_.joinable()) return;
    exporter_->Hold(false);
    thread_.join();
  }

 private:
  ListExporter* exporter_;
  std::thread thread_;
};

// Spans finished until one is dropped: the stop has begun (those before it were queued).
int FinishUntilDropped(Fixture& f) {
  int late = 0;
  EXPECT_TRUE(granary::testing::Eventually(
      [&] {
        ++late;
        Span(f.tracer.get(), "late", SpanKind::kInternal, std::nullopt);
        return Outcome(f.registry, "dropped") > 0;
      },
      absl::Seconds(60)));
  return late;
}

TEST(TracerTest, AStopThatBeginsMidRoundTriesAFailedReceiverOnceAndDropsTheRest) {
  TracingConfig config = Quiet();
  config.max_batch = 2;
  // The stop's time never runs out here: only the failure can end its sending.
  config.export_timeout = absl::Hours(1);
  Fixture f(config);
  f.exporter->Hold(true);
  // A full batch: call 1, held.
  for (int i = 0; i < 2; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  ASSERT_TRUE(f.exporter->first().WaitForNotificationWithTimeout(absl::Seconds(60)));
  // Three batches' worth behind it; call 1 answers, and the next round (all six) begins
  // with call 2, held.
  for (int i = 0; i < 6; ++i) Span(f.tracer.get(), "t", SpanKind::kInternal, std::nullopt);
  f.exporter->Permit();
  ASSERT_TRUE(
      granary::testing::Eventually([&] { return f.exporter->calls() == 2; }, absl::Seconds(60)));
  // The stop begins while that round is under way; then the receiver fails call 2.
  StopInBackground stop(f.tracer.get(), f.exporter);
  const int late = FinishUntilDropped(f);
  f.exporter->Fail(true);
  f.exporter->Permit();
  stop.Join();
  // No call 3: the stop gave the failed receiver no second try, and dropped what was left.
  EXPECT_EQ(f.exporter->calls(), 2u);
  EXPECT_EQ(Outcome(f.registry, "exported"), 2);
  EXPECT_EQ(Outcome(f.registry, "failed"), 2);
  EXPECT_EQ(Outcome(f.registry, "exported") + Outcome(f.registry, "failed") +
                Outcome(f.registry, "dropped"),
            8 + late);
}

TEST(TracerTest, AStopSendsEverythingWhileTheReceiverAnswers) {
  TracingConfig config = Quiet();
  config.max_batch = 2;
  config.export_timeout = absl::Hours(1);
  Fixture f(config);
  f.exporter->Hold(true);
  for (int i = 0; i < 2; ++i) Span(f.tracer.get(), "s", SpanKind::kInternal, std::nullopt);
  ASSERT_TRUE(f.exporter->first().WaitForNotificationWithTimeout(absl::Seconds(60)));
  for (int i = 0; i < 5; ++i) Span(f.tracer.get(), "t", SpanKind::kInternal, std::nullopt);
  StopInBackground stop(f.tracer.get(), f.exporter);
  const int late = FinishUntilDropped(f);
  stop.Join();  // lets every call answer
  // Everything queued before the stop went out (the late spans before it began included);
  // only spans finished after it began were dropped.
  EXPECT_EQ(Outcome(f.registry, "failed"), 0);
  EXPECT_GE(Outcome(f.registry, "dropped"), 1);
  EXPECT_EQ(Outcome(f.registry, "exported") + Outcome(f.registry, "dropped"), 7 + late);
}

TEST(TracerTest, EveryCallerOfShutdownReturnsOnceItHasStopped) {
  Fixture f(Quiet());
  f.exporter->Hold(true);
  { Span a(f.tracer.get(), "a", SpanKind::kInternal, std::nullopt); }
  StopInBackground first(f.tracer.get(), f.exporter);
  FinishUntilDropped(f);
  // A second caller while the first is still sending (held): when it returns, the held
  // export is done (it would see nothing exported had it returned at once).
  double exported_when_returned = -1;
  std::thread second([&] {
    f.tracer->Shutdown();
    exported_when_returned = Outcome(f.registry, "exported");
  });
  first.Join();
  second.join();
  EXPECT_GE(exported_when_returned, 1);
  EXPECT_EQ(exported_when_returned, Outcome(f.registry, "exported"));
}

TEST(TracerTest, ShutdownSendsWhatIsQueuedThenDrops) {
  Fixture f(Quiet());
  { Span a(f.tracer.get(), "a", SpanKind::kInternal, std::nullopt); }
  f.tracer->Shutdown();
  EXPECT_EQ(Total(f.exporter->batches()), 1u);
  { Span late(f.tracer.get(), "late", SpanKind::kInternal, std::nullopt); }
  EXPECT_EQ(Outcome(f.registry, "dropped"), 1);
  f.tracer->Flush();  // returns at once after a shutdown
  EXPECT_EQ(Total(f.exporter->batches()), 1u);
}

}  // namespace
}  // namespace granary::trace
