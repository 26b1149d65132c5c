// A cleanup command that runs when the guard is destroyed, or when this process dies for any
// reason (a crash, a SIGKILL from a test timeout) before that. A guardian child waits for
// the end of a pipe only this process writes to, then runs the command with /bin/sh. Tests
// that start daemons which outlive their starter (as tools/dev does) use it so that nothing
// is left behind however the test ends.
//
//   ASSERT_OK_AND_ASSIGN(auto guard, ProcessGuard::Start("kill -9 $(cat /tmp/x/*.pid)"));
#ifndef GRANARY_LIBS_TESTING_PROCESS_GUARD_H_
#define GRANARY_LIBS_TESTING_PROCESS_GUARD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include <sys/types.h>

namespace granary::testing {

class ProcessGuard {
 public:
  static absl::StatusOr<std::unique_ptr<ProcessGuard>> Start(const std::string& command);
  // Runs the command now and waits for it.
  ~ProcessGuard();

  // The guardian process (a child of this one).
  pid_t pid() const { return pid_; }

 private:
  ProcessGuard(pid_t pid, int write_fd) : pid_(pid), write_fd_(write_fd) {}
  pid_t pid_;
  int write_fd_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_PROCESS_GUARD_H_
