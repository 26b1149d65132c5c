#include "libs/base/periodic.h"

#include <utility>

#include "libs/base/log.h"
#include "libs/base/thread_name.h"

namespace granary::base {

Periodic::Periodic(std::string what, absl::Duration interval, std::function<absl::Status()> pass)
    : what_(std::move(what)), interval_(interval), pass_(std::move(pass)) {}

Periodic::~Periodic() { Stop(); }

void Periodic::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    NameThisThread("periodic");
    Loop();
  });
}

void Periodic::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void Periodic::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

bool Periodic::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void Periodic::Loop() {
  absl::Status last;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return woken_ || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), interval_);
      if (stopping_) return;
      woken_ = false;
    }
    absl::Status status = pass_();
    if (!status.ok() && status != last) {
      LogWarning("background pass failed; retrying").With("work", what_).With("error", status);
    }
    last = status;
  }
}

}  // namespace granary::base
