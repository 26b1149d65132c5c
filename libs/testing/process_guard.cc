#include "libs/testing/process_guard.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include <sys/wait.h>

namespace granary::testing {

absl::StatusOr<std::unique_ptr<ProcessGuard>> ProcessGuard::Start(const std::string& command) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here. A session of its own: the test runner's kill of
    // the test's process group must not take the guardian too.
    setsid();
    close(fds[1]);
    char buf[1];
    while (read(fds[0], buf, sizeof(buf)) != 0) {
      if (errno != EINTR) break;
    }
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  return std::unique_ptr<ProcessGuard>(new ProcessGuard(pid, fds[1]));
}

ProcessGuard::~ProcessGuard() {
  close(write_fd_);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace granary::testing
