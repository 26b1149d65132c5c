// A pass of background work repeated on a thread of its own: every `interval`, or at once
// when woken, until stopped. A failing pass is logged once per distinct error (an outage
// repeats the same error every interval; the service's health reports it already) and the
// next pass retries.
//
//   Periodic trimmer("trim GRANARY_PUSH", absl::Seconds(1), [&] { return Trim(); });
//   trimmer.Start();  ...  trimmer.Wake();  ...  trimmer.Stop();
#ifndef GRANARY_LIBS_BASE_PERIODIC_H_
#define GRANARY_LIBS_BASE_PERIODIC_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace granary::base {

class Periodic {
 public:
  // `what` names the work in the log line of a failed pass.
  Periodic(std::string what, absl::Duration interval, std::function<absl::Status()> pass);
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;
  ~Periodic();

  // The first pass runs one interval (or one Wake) after Start. Start after Stop resumes.
  void Start();
  // Returns once the pass in progress, if any, has finished.
  void Stop();
  // Runs a pass now rather than at the end of the interval.
  void Wake();
  // Whether Stop was called: a long pass may end early.
  bool stopping() const;

 private:
  void Loop();

  const std::string what_;
  const absl::Duration interval_;
  const std::function<absl::Status()> pass_;
  mutable absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_PERIODIC_H_
