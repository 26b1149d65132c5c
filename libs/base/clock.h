// An injectable clock. Code that compares against "now" (TTL checks, freshness, deadlines in
// domain logic) takes a Clock& so tests can pin time.
//
//   const Clock& clock = Clock::Real();
//   if (clock.Now() - event_time > ttl) ...
#ifndef GRANARY_LIBS_BASE_CLOCK_H_
#define GRANARY_LIBS_BASE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace granary::base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide wall clock.
  static const Clock& Real();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}

  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_CLOCK_H_
