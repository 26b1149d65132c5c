#include "tools/cli/program.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include <sys/wait.h>

extern char** environ;

namespace granary::cli {
namespace {

struct Spawned {
  pid_t pid = -1;
  int in = -1;   // write end of its stdin, when piped
  int out = -1;  // read end of its stdout, when captured
};

absl::StatusOr<Spawned> Spawn(const std::vector<std::string>& argv, bool pipe_in,
                              bool capture_out) {
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  if ((pipe_in && pipe2(in, O_CLOEXEC) != 0) || (capture_out && pipe2(out, O_CLOEXEC) != 0)) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (pipe_in) posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  if (capture_out) posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Spawned s;
  int rc = posix_spawnp(&s.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (pipe_in) close(in[0]);
  if (capture_out) close(out[1]);
  if (rc != 0) {
    if (pipe_in) close(in[1]);
    if (capture_out) close(out[0]);
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc)));
  }
  s.in = pipe_in ? in[1] : -1;
  s.out = capture_out ? out[0] : -1;
  return s;
}

// Its exit status (128 + the signal that killed it), or 255 when it cannot be waited for.
int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 255;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

absl::StatusOr<std::string> CaptureProgram(const std::vector<std::string>& argv) {
  absl::StatusOr<Spawned> s = Spawn(argv, false, true);
  if (!s.ok()) return s.status();
  std::string output;
  char buffer[65536];
  ssize_t n;
  while ((n = read(s->out, buffer, sizeof(buffer))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    output.append(buffer, static_cast<size_t>(n));
  }
  close(s->out);
  int status = Wait(s->pid);
  if (status != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(absl::StrJoin(argv, " "), " exited with status ", status));
  }
  return output;
}

absl::StatusOr<int> RunProgram(const std::vector<std::string>& argv, const std::string& input) {
  // A program that stops reading early must not kill the CLI with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<Spawned> s = Spawn(argv, !input.empty(), false);
  if (!s.ok()) return s.status();
  if (s->in >= 0) {
    size_t written = 0;
    while (written < input.size()) {
      ssize_t n = write(s->in, input.data() + written, input.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // it stopped reading: its exit status tells why
      written += static_cast<size_t>(n);
    }
    close(s->in);
  }
  return Wait(s->pid);
}

bool HasProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/", name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace granary::cli
