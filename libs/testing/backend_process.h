// What RedisServer, PostgresServer and NatsServer share: a server process on a loopback port
// of its own, started (and restarted on the same port) until it prints its ready line.
#ifndef GRANARY_LIBS_TESTING_BACKEND_PROCESS_H_
#define GRANARY_LIBS_TESTING_BACKEND_PROCESS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "libs/testing/subprocess.h"

namespace granary::testing {

struct BackendSpec {
  // Name for messages and the log file ("redis").
  std::string name;
  // The command line for a given port.
  std::function<std::vector<std::string>(int port)> argv;
  // A line the server prints once it accepts connections.
  std::string ready_line;
  // A line it prints when its port is taken (then another port is tried).
  std::string port_taken_line;
  // Signal for a clean, fast shutdown.
  int stop_signal = SIGTERM;
  std::optional<std::string> run_as_user;
  std::string log_path;
  // NAME=VALUE entries on top of the test's environment.
  std::vector<std::string> env;
};

class BackendProcess {
 public:
  explicit BackendProcess(BackendSpec spec) : spec_(std::move(spec)) {}
  // Stops the server with its own clean-shutdown signal (PostgreSQL's "fast", not "smart",
  // which would wait for clients to leave).
  ~BackendProcess() { Stop().IgnoreError(); }

  // Picks a free port (trying others when one is taken meanwhile) and waits until ready.
  absl::Status StartOnFreePort();
  // Starts again on the port of the first start; waits until ready.
  absl::Status Restart();
  // Clean shutdown; nothing of the process group is left.
  absl::Status Stop();
  // SIGKILL, as a crash.
  absl::Status Kill();

  // Waits for a line of the server's output (since its last start) containing `text`.
  absl::Status WaitForOutput(absl::string_view text, absl::Duration timeout) {
    if (process_ == nullptr) return absl::FailedPreconditionError(spec_.name + " is not running");
    return process_->WaitForOutput(text, timeout);
  }

  int port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : 0; }
  bool running() const { return process_ != nullptr && process_->Running(); }
  std::string RecentOutput() const { return process_ ? process_->RecentOutput() : ""; }

 private:
  absl::Status StartOn(int port);

  BackendSpec spec_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// Directory with PostgreSQL's server binaries (initdb, postgres): $GRANARY_PG_BIN, else the
// newest /usr/lib/postgresql/<version>/bin.
absl::StatusOr<std::string> PostgresBinDir();

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_BACKEND_PROCESS_H_
