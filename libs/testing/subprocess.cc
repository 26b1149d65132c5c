#include "libs/testing/subprocess.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char** environ;

namespace granary::testing {
namespace {

constexpr size_t kMaxLines = 5000;
constexpr size_t kRecentLines = 30;

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(SubprocessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess: empty argv");

  // Everything the child needs is prepared before fork: after fork only async-signal-safe
  // calls are allowed (the parent is multithreaded).
  std::vector<std::string> env;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const std::string& o : options.env) replaced = replaced || name_of(o) == name_of(entry);
    if (!replaced) env.push_back(std::move(entry));
  }
  for (const std::string& e : options.env) env.push_back(e);
  std::vector<char*> envp = CStrings(env);
  std::vector<char*> argv = CStrings(options.argv);

  bool drop = options.run_as_user.has_value() && geteuid() == 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (drop) {
    struct passwd* pw = getpwnam(options.run_as_user->c_str());
    if (pw == nullptr) {
      return absl::NotFoundError(absl::StrCat("no such user: ", *options.run_as_user));
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    if (devnull >= 0) close(devnull);
    return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (drop && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) _exit(126);
    // Dies with the parent (set after setuid, which clears it). Covers a crashed test binary.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) _exit(124);
    // Signals blocked in the parent (RunService blocks SIGTERM) must not stay blocked here.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  // Also set from the parent, so the group exists before Start returns whatever runs first.
  setpgid(pid, pid);
  close(pipe_fds[1]);
  if (devnull >= 0) close(devnull);

  std::string name = options.argv[0].substr(options.argv[0].rfind('/') + 1);
  auto process = std::unique_ptr<Subprocess>(
      new Subprocess(pid, pipe_fds[0], std::move(options.log_path), std::move(name)));
  return process;
}

Subprocess::Subprocess(pid_t pid, int output_fd, std::string log_path, std::string name)
    : pid_(pid), name_(std::move(name)), output_fd_(output_fd), log_path_(std::move(log_path)) {
  reader_ = std::thread([this] { ReadOutput(); });
}

Subprocess::~Subprocess() {
  if (!wait_status_.has_value()) Stop().IgnoreError();
  if (reader_.joinable()) reader_.join();
  close(output_fd_);
}

void Subprocess::ReadOutput() {
  std::ofstream log;
  if (!log_path_.empty()) log.open(log_path_, std::ios::app);
  std::string partial;
  char buf[4096];
  while (true) {
    ssize_t n = read(output_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log.is_open()) {
      log.write(buf, n);
      log.flush();
    }
    partial.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    size_t nl;
    absl::MutexLock lock(&mu_);
    while ((nl = partial.find('\n', start)) != std::string::npos) {
      lines_.push_back(partial.substr(start, nl - start));
      if (lines_.size() > kMaxLines) lines_.pop_front();
      start = nl + 1;
    }
    partial.erase(0, start);
  }
  absl::MutexLock lock(&mu_);
  if (!partial.empty()) lines_.push_back(partial);
  output_closed_ = true;
}

std::string Subprocess::Output() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(lines_, "\n");
}

std::string Subprocess::RecentOutput() const {
  absl::MutexLock lock(&mu_);
  size_t from = lines_.size() > kRecentLines ? lines_.size() - kRecentLines : 0;
  std::vector<std::string> tail(lines_.begin() + from, lines_.end());
  return absl::StrJoin(tail, "\n");
}

absl::Status Subprocess::WaitForOutput(absl::string_view text, absl::Duration timeout) {
  auto seen_or_closed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (output_closed_) return true;
    for (const std::string& line : lines_) {
      if (absl::StrContains(line, text)) return true;
    }
    return false;
  };
  bool found = false;
  bool closed = false;
  {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&seen_or_closed), timeout);
    for (const std::string& line : lines_) found = found || absl::StrContains(line, text);
    closed = output_closed_;
  }
  if (found) return absl::OkStatus();
  std::string tail = RecentOutput();
  // The pipe closes as the process exits, a moment before it can be reaped.
  if (closed && AwaitExit(absl::Seconds(5))) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, " exited before printing \"", text, "\"; its last output:\n", tail));
  }
  return absl::DeadlineExceededError(absl::StrCat(name_, " did not print \"", text, "\" within ",
                                                  absl::FormatDuration(timeout),
                                                  "; its last output:\n", tail));
}

bool Subprocess::AwaitExit(absl::Duration timeout) {
  if (wait_status_.has_value()) return true;
  int status = 0;
  int pidfd = PidfdOpen(pid_);
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      wait_status_ = status;
      break;
    }
    if (r < 0 && errno != EINTR) {  // Reaped elsewhere: treat as exited.
      wait_status_ = 0;
      break;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    if (pidfd >= 0) {
      // The pidfd turns readable when the process exits: no polling.
      struct pollfd p = {pidfd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    } else {
      usleep(10'000);
    }
  }
  if (pidfd >= 0) close(pidfd);
  return wait_status_.has_value();
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  if (!AwaitExit(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat(name_, " (pid ", pid_, ") still runs after ", absl::FormatDuration(timeout)));
  }
  // The pipe closes with the process, unless something it started still holds it open.
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&output_closed_),
                        std::max(deadline, absl::Now() + absl::Seconds(1)));
  return *wait_status_;
}

bool Subprocess::Running() { return !AwaitExit(absl::ZeroDuration()); }

absl::Status Subprocess::Stop(int signal, absl::Duration grace) {
  if (!wait_status_.has_value()) {
    kill(pid_, signal);
    if (!AwaitExit(grace)) {
      kill(-pid_, SIGKILL);
      AwaitExit(absl::Seconds(10));
    }
  }
  // Whatever the leader left behind (worker processes) goes too. Those are not our children,
  // so there is nothing to wait on: look until the kernel has taken them down.
  if (ProcessGroupAlive(pid_)) {
    kill(-pid_, SIGKILL);
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (ProcessGroupAlive(pid_) && absl::Now() < deadline) usleep(2'000);
    if (ProcessGroupAlive(pid_)) {
      return absl::InternalError(
          absl::StrCat("processes of ", name_, "'s group ", pid_, " survive SIGKILL"));
    }
  }
  if (!wait_status_.has_value()) {
    return absl::InternalError(absl::StrCat(name_, " (pid ", pid_, ") did not exit"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcessInfo> ReadProcessInfo(pid_t pid) {
  // read(2), not a stream: a process that exits between open and read fails the read with
  // ESRCH, which libstdc++'s stream buffers throw as an exception.
  std::string content;
  int fd = open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<size_t>(n));
    close(fd);
  }
  // The command in parentheses may hold spaces; the fields after it are: state ppid pgrp ...
  size_t close_paren = content.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= content.size()) {
    return absl::NotFoundError(absl::StrCat("no process ", pid));
  }
  std::vector<std::string> fields =
      absl::StrSplit(content.substr(close_paren + 2), ' ', absl::SkipEmpty());
  if (fields.size() < 3) return absl::NotFoundError(absl::StrCat("no process ", pid));
  return ProcessInfo{fields[0][0], atoi(fields[1].c_str()), atoi(fields[2].c_str())};
}

std::vector<pid_t> LiveProcesses(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (struct dirent* entry = readdir(proc)) {
    int pid = atoi(entry->d_name);
    if (pid <= 0) continue;
    absl::StatusOr<ProcessInfo> info = ReadProcessInfo(pid);
    if (info.ok() && info->state != 'Z' && (parent == 0 || info->ppid == parent)) {
      out.push_back(pid);
    }
  }
  closedir(proc);
  return out;
}

bool ProcessGroupAlive(pid_t pgid) {
  for (pid_t pid : LiveProcesses()) {
    absl::StatusOr<ProcessInfo> info = ReadProcessInfo(pid);
    if (info.ok() && info->pgid == pgid) return true;
  }
  return false;
}

}  // namespace granary::testing
