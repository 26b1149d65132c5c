// A child process for tests and local tooling: started in its own process group, its output
// copied to a log file and watched line by line, stopped by pid (and its whole group) with a
// grace period. Readiness is awaited on what the process prints, not on sleeps.
//
//   ASSIGN_OR_RETURN(auto redis, Subprocess::Start({.argv = {"redis-server", "--port", "0"}}));
//   RETURN_IF_ERROR(redis->WaitForOutput("Ready to accept connections", absl::Seconds(10)));
//   ...
//   RETURN_IF_ERROR(redis->Stop());
#ifndef GRANARY_LIBS_TESTING_SUBPROCESS_H_
#define GRANARY_LIBS_TESTING_SUBPROCESS_H_

#include <csignal>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include <sys/types.h>

namespace granary::testing {

struct SubprocessOptions {
  // Program and arguments; argv[0] is looked up on PATH when it has no slash.
  std::vector<std::string> argv;
  // NAME=VALUE entries on top of the parent's environment (replacing a variable it has).
  std::vector<std::string> env;
  // Working directory; empty keeps the parent's.
  std::string working_dir;
  // Where stdout and stderr are copied; empty keeps them in memory only.
  std::string log_path;
  // When running as root, drop to this user first (PostgreSQL refuses to run as root).
  std::optional<std::string> run_as_user;
};

class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(SubprocessOptions options);

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // Stops the process (and its group) if it still runs.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Returns once a line of output contains `text`. FAILED_PRECONDITION if the process exits
  // first, DEADLINE_EXCEEDED after `timeout`; both errors carry the last lines of output.
  absl::Status WaitForOutput(absl::string_view text, absl::Duration timeout);

  // Sends `signal`, waits up to `grace` for the exit, then SIGKILLs the whole process group so
  // that nothing the process started is left behind.
  absl::Status Stop(int signal = SIGTERM, absl::Duration grace = absl::Seconds(10));
  // SIGKILL at once, as a crash would (no clean shutdown).
  absl::Status Kill() { return Stop(SIGKILL, absl::Seconds(5)); }

  // Blocks until the process exits by itself and its output has been read (so RecentOutput is
  // complete); returns its wait status.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  bool Running();
  // Exit status from waitpid, once the process has been reaped.
  std::optional<int> wait_status() const { return wait_status_; }
  // The last lines of output, for error messages.
  std::string RecentOutput() const;
  // All the output kept (the last few thousand lines).
  std::string Output() const;
  const std::string& name() const { return name_; }

 private:
  Subprocess(pid_t pid, int output_fd, std::string log_path, std::string name);
  void ReadOutput();
  // Waits for the child to exit (reaping it) for at most `timeout`. True when it exited.
  bool AwaitExit(absl::Duration timeout);

  const pid_t pid_;
  const std::string name_;
  int output_fd_;
  std::string log_path_;
  std::thread reader_;
  std::optional<int> wait_status_;

  mutable absl::Mutex mu_;
  // Output lines, the oldest dropped past a few thousand.
  std::deque<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool output_closed_ ABSL_GUARDED_BY(mu_) = false;
};

// What /proc says of a process.
struct ProcessInfo {
  char state = '?';  // R, S, D, Z, ...
  pid_t ppid = 0;
  pid_t pgid = 0;
};

// NOT_FOUND when there is no such process.
absl::StatusOr<ProcessInfo> ReadProcessInfo(pid_t pid);

// Running processes (zombies excluded), optionally only the children of `parent`.
std::vector<pid_t> LiveProcesses(pid_t parent = 0);

// True while any (non-zombie) process in process group `pgid` exists.
bool ProcessGroupAlive(pid_t pgid);

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_SUBPROCESS_H_
