// Waits for a condition that nothing signals (a row landing in Redis written by another
// process, a server deleting a message as it processes an ack) by asking again until it
// holds or the timeout passes. The timeout is a bound for a failing test, never a measure:
// a passing test returns as soon as the condition holds.
//
//   ASSERT_TRUE(Eventually([&] { return Count("stats") == 3; }, absl::Seconds(20)));
#ifndef GRANARY_LIBS_TESTING_EVENTUALLY_H_
#define GRANARY_LIBS_TESTING_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace granary::testing {

inline bool Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  for (absl::Time give_up = absl::Now() + timeout; absl::Now() < give_up;) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));  // asking again, not waiting for an event
  }
  return done();
}

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_EVENTUALLY_H_
