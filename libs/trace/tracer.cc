#include "libs/trace/tracer.h"

#include <utility>

#include "prometheus/family.h"

#include "libs/base/log.h"

namespace granary::trace {

Tracer::Tracer(TracingConfig config, std::unique_ptr<SpanExporter> exporter,
               prometheus::Registry* metrics)
    : config_(std::move(config)), exporter_(std::move(exporter)) {
  if (metrics != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("granary_trace_spans_total")
                       .Help(
                           "Recorded spans by what became of them: exported, dropped (the "
                           "export queue was full) or failed (the receiver refused or was "
                           "unreachable).")
                       .Register(*metrics);
    exported_ = &family.Add({{"outcome", "exported"}});
    dropped_ = &family.Add({{"outcome", "dropped"}});
    failed_ = &family.Add({{"outcome", "failed"}});
  }
  if (exporter_ != nullptr) thread_ = std::thread([this] { Loop(); });
}

Tracer::~Tracer() { Shutdown(); }

void Tracer::Finish(SpanRecord span) {
  // The export thread waits on a condition over queue_ (Loop): absl::Mutex evaluates it when
  // this lock is released, so a full batch wakes it without a notify.
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(queue_.size()) >= config_.max_queue) {
    if (dropped_ != nullptr) dropped_->Increment();
    return;
  }
  queue_.push_back(std::move(span));
}

void Tracer::Flush() {
  if (exporter_ == nullptr) return;
  int64_t ticket;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    ticket = ++flushes_asked_;
    auto served = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return flushes_done_ >= ticket || stopping_;
    };
    mu_.Await(absl::Condition(&served));
  }
}

void Tracer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Tracer::Loop() {
  while (true) {
    int64_t asked;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || flushes_asked_ > flushes_done_ ||
               static_cast<int>(queue_.size()) >= config_.max_batch;
      };
      mu_.AwaitWithTimeout(absl::Condition(&due), config_.export_interval);
      asked = flushes_asked_;
      stopping = stopping_;
    }
    // A flush or the stop sends everything; a tick or a full batch sends what is there.
    while (ExportBatch()) {
      absl::MutexLock lock(&mu_);
      if (!stopping_ && flushes_asked_ == flushes_done_ &&
          static_cast<int>(queue_.size()) < config_.max_batch) {
        break;
      }
    }
    absl::MutexLock lock(&mu_);
    if (flushes_done_ < asked) flushes_done_ = asked;
    if (stopping && queue_.empty()) return;
  }
}

bool Tracer::ExportBatch() {
  std::vector<SpanRecord> batch;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.empty()) return false;
    if (static_cast<int>(queue_.size()) <= config_.max_batch) {
      batch.swap(queue_);
    } else {
      auto split = queue_.begin() + config_.max_batch;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(split));
      queue_.erase(queue_.begin(), split);
    }
  }
  absl::MutexLock lock(&export_mu_);
  absl::Status status = exporter_->Export(batch);
  if (status.ok()) {
    if (exported_ != nullptr) exported_->Increment(static_cast<double>(batch.size()));
    return true;
  }
  if (failed_ != nullptr) failed_->Increment(static_cast<double>(batch.size()));
  // Once a minute at most: a receiver that is down must not flood the log.
  absl::Time now = absl::Now();
  if (now - last_failure_log_ >= absl::Minutes(1)) {
    last_failure_log_ = now;
    base::LogWarning("spans not exported")
        .With("spans", static_cast<int64_t>(batch.size()))
        .With("endpoint", config_.otlp_endpoint)
        .With("error", status);
  }
  return true;
}

}  // namespace granary::trace
