#include "libs/trace/tracer.h"

#include <algorithm>
#include <utility>

#include "prometheus/family.h"

#include "libs/base/log.h"
#include "libs/base/thread_name.h"

namespace granary::trace {

Tracer::Tracer(TracingConfig config, std::unique_ptr<SpanExporter> exporter,
               prometheus::Registry* metrics)
    : config_(std::move(config)), exporter_(std::move(exporter)) {
  if (metrics != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("granary_trace_spans_total")
                       .Help(
                           "Recorded spans by what became of them: exported, dropped (the "
                           "export queue was full, or the process stopped before they could "
                           "be sent) or failed (the receiver refused or was unreachable).")
                       .Register(*metrics);
    exported_ = &family.Add({{"outcome", "exported"}});
    dropped_ = &family.Add({{"outcome", "dropped"}});
    failed_ = &family.Add({{"outcome", "failed"}});
  }
  queue_.reserve(static_cast<size_t>(config_.max_batch));
  if (exporter_ != nullptr) {
    thread_ = std::thread([this] {
      base::NameThisThread("trace-export");
      Loop();
    });
  }
}

Tracer::~Tracer() { Shutdown(); }

void Tracer::Finish(SpanRecord span) {
  // The export thread waits on a condition over queue_ (Loop): absl::Mutex evaluates it when
  // this lock is released, so a full batch wakes it without a notify.
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(queue_.size()) >= config_.max_queue) {
    Count(dropped_, 1);
    return;
  }
  queue_.push_back(std::move(span));
}

void Tracer::Flush() {
  if (exporter_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  const int64_t ticket = ++flushes_asked_;
  auto served = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return flushes_done_ >= ticket || stopping_;
  };
  mu_.Await(absl::Condition(&served));
}

void Tracer::Shutdown() {
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      first = true;
      stopping_ = true;
      // What is queued gets one export_timeout in all, so a collector that accepts
      // connections and never answers cannot hold the process past its drain.
      stop_by_ = absl::Now() + config_.export_timeout;
    }
  }
  if (first) {
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    return;
  }
  // Another caller stops it: return once it has.
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&stopped_));
}

void Tracer::Loop() {
  while (true) {
    int64_t asked;
    size_t to_send;
    {
      absl::MutexLock lock(&mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || flushes_asked_ > flushes_done_ ||
               static_cast<int>(queue_.size()) >= config_.max_batch;
      };
      mu_.AwaitWithTimeout(absl::Condition(&due), config_.export_interval);
      asked = flushes_asked_;
      // What is queued now: spans that keep arriving while it is sent wait for the next round,
      // so a flush returns under a steady stream of spans.
      to_send = queue_.size();
    }
    size_t sent = 0;
    bool ok = true;
    while (sent < to_send) {
      ok = true;
      const size_t taken = ExportBatch(&ok);
      if (taken == 0) break;
      sent += taken;
      // Once stopping (even if the stop began during this round), a receiver that failed
      // gets no second try: the rest would not fare better.
      if (!ok && Stopping()) break;
    }
    absl::MutexLock lock(&mu_);
    if (flushes_done_ < asked) flushes_done_ = asked;
    if (!stopping_) continue;
    // More to send, the last export went through and there is time: another round.
    if (!queue_.empty() && ok && absl::Now() < stop_by_) continue;
    const size_t unsent = queue_.size();
    Count(dropped_, unsent);
    queue_.clear();
    if (unsent > 0) {
      // The last word on this process's spans: a counter nobody scrapes any more would not
      // tell.
      base::LogWarning("spans dropped at stop")
          .With("spans", static_cast<int64_t>(unsent))
          .With("endpoint", config_.otlp_endpoint);
    }
    return;
  }
}

bool Tracer::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

size_t Tracer::ExportBatch(bool* ok) {
  std::vector<SpanRecord> batch;
  // Allocated here, not under the lock that Finish takes on the request path.
  std::vector<SpanRecord> fresh;
  fresh.reserve(static_cast<size_t>(std::min(config_.max_batch, 1024)));
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.empty()) return 0;
    const absl::Time now = absl::Now();
    // The stop's time (stop_by_ is the infinite future until then) is up: nothing more is sent.
    if (now >= stop_by_) return 0;
    deadline = std::min(now + config_.export_timeout, stop_by_);
    if (static_cast<int>(queue_.size()) <= config_.max_batch) {
      batch.swap(queue_);
      queue_.swap(fresh);
    } else {
      auto split = queue_.begin() + config_.max_batch;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(split));
      queue_.erase(queue_.begin(), split);
    }
  }
  absl::StatusOr<int64_t> rejected = exporter_->Export(batch, deadline);
  *ok = rejected.ok();
  const int64_t size = static_cast<int64_t>(batch.size());
  if (rejected.ok()) {
    const int64_t refused = std::min(std::max<int64_t>(*rejected, 0), size);
    Count(exported_, static_cast<size_t>(size - refused));
    Count(failed_, static_cast<size_t>(refused));
    if (refused > 0) LogFailure(absl::InvalidArgumentError("the receiver rejected some"), refused);
  } else {
    Count(failed_, static_cast<size_t>(size));
    LogFailure(rejected.status(), size);
  }
  return batch.size();
}

void Tracer::LogFailure(const absl::Status& status, int64_t spans) {
  // Once a minute at most: a receiver that is down must not flood the log.
  absl::Time now = absl::Now();
  if (now - last_failure_log_ < absl::Minutes(1)) return;
  last_failure_log_ = now;
  base::LogWarning("spans not exported")
      .With("spans", spans)
      .With("endpoint", config_.otlp_endpoint)
      .With("error", status);
}

void Tracer::Count(prometheus::Counter* counter, size_t n) {
  if (counter != nullptr && n > 0) counter->Increment(static_cast<double>(n));
}

}  // namespace granary::trace
