// The process's tracer: decides which traces are recorded (sampling) and exports the spans of
// those off the request path. A finished span goes into a bounded queue (a lock held for a
// push_back); one background thread sends the queue in batches, when a batch is full or every
// `export_interval`, whichever comes first. A full queue drops spans (counted) rather than
// slow or grow the service: tracing must never cost a request.
//
//   granary_trace_spans_total{outcome="exported"|"dropped"|"failed"}
//
//   Tracer tracer(config, std::make_unique<OtlpGrpcExporter>(...), &registry);
//   { Span span(&tracer, "work", SpanKind::kInternal, std::nullopt); ... }
//   tracer.Shutdown();   // exports what is queued (the destructor does too)
#ifndef GRANARY_LIBS_TRACE_TRACER_H_
#define GRANARY_LIBS_TRACE_TRACER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

#include "libs/trace/span.h"

namespace granary::trace {

// The `server.tracing:` config section (libs/server/server_config.h).
struct TracingConfig {
  // host:port of an OTLP/gRPC receiver (an OpenTelemetry Collector). Empty: no span is
  // exported; trace contexts are still read, made and passed on, and trace ids still logged.
  std::string otlp_endpoint;
  // TLS to the receiver, with the system's roots (false: plaintext, for a local collector).
  bool otlp_tls = false;
  // Share of the traces that start here that are recorded (0 to 1). A trace that arrives with
  // a traceparent is recorded as its sampled flag says, so a trace is recorded whole or not at
  // all.
  double sample_ratio = 1.0;
  // The longest a finished span waits before it is sent.
  absl::Duration export_interval = absl::Seconds(5);
  // The most spans sent in one Export call; a batch this full is sent at once.
  int max_batch = 512;
  // The most spans waiting; more are dropped (granary_trace_spans_total{outcome="dropped"}).
  int max_queue = 2048;
  // One Export call's deadline.
  absl::Duration export_timeout = absl::Seconds(10);
};

// Where batches of spans go (OTLP/gRPC in production, a list in tests).
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // How many of `spans` the receiver rejected (0: it took them all), or why it took none.
  // Gives up at `deadline`.
  virtual absl::StatusOr<int64_t> Export(const std::vector<SpanRecord>& spans,
                                         absl::Time deadline) = 0;
};

class Tracer {
 public:
  // `exporter` null: spans are never recorded, and traces that start here are unsampled
  // (libs/trace/span.h).
  // `metrics` may be null.
  Tracer(TracingConfig config, std::unique_ptr<SpanExporter> exporter,
         prometheus::Registry* metrics);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  double sample_ratio() const { return config_.sample_ratio; }
  bool exporting() const { return exporter_ != nullptr; }

  // Queues a finished span (Span::End calls it).
  void Finish(SpanRecord span);
  // Sends what is queued now and returns once it was sent (or failed: each batch is tried, so
  // a receiver that does not answer makes this wait an export_timeout per batch). Returns at
  // once, without sending, if a Shutdown starts meanwhile. For tests and tools.
  void Flush();
  // Sends what is queued within export_timeout in all, a batch at a time; after a failed
  // export, or once that time is up, the rest is dropped (counted, and logged). Then stops
  // the export thread; later spans are dropped. Every caller returns once it has stopped.
  void Shutdown();

 private:
  void Loop();
  // Sends up to max_batch queued spans, within export_timeout and the stop's time; how many it
  // took from the queue (0: none was queued, or the stop's time is up). *ok: whether the
  // receiver answered.
  size_t ExportBatch(bool* ok);
  bool Stopping();
  void LogFailure(const absl::Status& status, int64_t spans);
  static void Count(prometheus::Counter* counter, size_t n);

  const TracingConfig config_;
  const std::unique_ptr<SpanExporter> exporter_;
  prometheus::Counter* exported_ = nullptr;
  prometheus::Counter* dropped_ = nullptr;
  prometheus::Counter* failed_ = nullptr;

  absl::Mutex mu_;
  std::vector<SpanRecord> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // When the stop's sending ends; the infinite future until Shutdown.
  absl::Time stop_by_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // The export thread is gone (later Shutdown callers wait for it).
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Flush requests not served yet, and those served (Flush waits for its own).
  int64_t flushes_asked_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t flushes_done_ ABSL_GUARDED_BY(mu_) = 0;
  // The export thread's own.
  absl::Time last_failure_log_ = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_TRACER_H_
