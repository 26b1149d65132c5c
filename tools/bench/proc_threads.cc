#include "tools/bench/proc_threads.h"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace granary::bench {
namespace {

std::string TaskDir(pid_t pid) {
  return pid == 0 ? std::string("/proc/self/task") : absl::StrCat("/proc/", pid, "/task");
}

std::vector<pid_t> Tasks(pid_t pid) {
  std::vector<pid_t> tids;
  DIR* dir = opendir(TaskDir(pid).c_str());
  if (dir == nullptr) return tids;
  while (dirent* entry = readdir(dir)) {
    int tid = 0;
    if (absl::SimpleAtoi(entry->d_name, &tid)) tids.push_back(tid);
  }
  closedir(dir);
  return tids;
}

// One thread's name and counts; false when it is gone.
bool ReadTask(const std::string& dir, std::string* name, ThreadCount* count) {
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "tid (comm) state ...": comm may hold spaces and parentheses; it ends at the last ')'.
  size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *name = line.substr(open + 1, close - open - 1);
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  long long utime = 0, stime = 0;
  fields >> utime >> stime;
  count->cpu = absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    std::istringstream words(line);
    std::string key;
    int64_t value = 0;
    words >> key >> value;
    if (key == "voluntary_ctxt_switches:") count->voluntary_switches = value;
    if (key == "nonvoluntary_ctxt_switches:") count->involuntary_switches = value;
  }
  // "<ns on a CPU> <ns runnable, waiting for one> <timeslices>"; absent without schedstats.
  std::ifstream schedstat(dir + "/schedstat");
  int64_t on_cpu_ns = 0, waited_ns = 0;
  if (schedstat >> on_cpu_ns >> waited_ns) count->run_delay = absl::Nanoseconds(waited_ns);
  return true;
}

}  // namespace

ThreadCounts ThreadsOf(pid_t pid) {
  ThreadCounts out;
  for (pid_t tid : Tasks(pid)) {
    std::string name;
    ThreadCount count;
    if (!ReadTask(absl::StrCat(TaskDir(pid), "/", tid), &name, &count)) continue;
    ThreadCount& sum = out[name];
    ++sum.threads;
    sum.cpu += count.cpu;
    sum.voluntary_switches += count.voluntary_switches;
    sum.involuntary_switches += count.involuntary_switches;
    sum.run_delay += count.run_delay;
  }
  return out;
}

absl::Duration RunDelay(const ThreadCounts& before, const ThreadCounts& after) {
  absl::Duration total;
  for (const auto& [name, now] : after) {
    auto it = before.find(name);
    total += now.run_delay - (it == before.end() ? absl::ZeroDuration() : it->second.run_delay);
  }
  return total;
}

std::string PerRequest(const ThreadCounts& before, const ThreadCounts& after, double requests) {
  struct Line {
    double cpu_us;
    std::string text;
  };
  std::vector<Line> lines;
  const double n = std::max(1.0, requests);
  for (const auto& [name, now] : after) {
    ThreadCount then;
    if (auto it = before.find(name); it != before.end()) then = it->second;
    const double cpu_us = absl::ToDoubleMicroseconds(now.cpu - then.cpu) / n;
    const double voluntary = static_cast<double>(now.voluntary_switches - then.voluntary_switches);
    const double involuntary =
        static_cast<double>(now.involuntary_switches - then.involuntary_switches);
    const double waited_us = absl::ToDoubleMicroseconds(now.run_delay - then.run_delay) / n;
    if (cpu_us <= 0 && voluntary <= 0 && involuntary <= 0) continue;
    lines.push_back(
        {cpu_us, absl::StrFormat("%s x%d: %.1f us, %.2f + %.2f switches, waited %.1f us", name,
                                 now.threads, cpu_us, voluntary / n, involuntary / n, waited_us)});
  }
  std::sort(lines.begin(), lines.end(),
            [](const Line& a, const Line& b) { return a.cpu_us > b.cpu_us; });
  std::vector<std::string> texts;
  for (const Line& line : lines) texts.push_back(line.text);
  return absl::StrJoin(texts, "; ");
}

absl::Status PinToCpu(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  for (pid_t tid : Tasks(pid)) {
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
      return absl::InternalError(
          absl::StrCat("pinning thread ", tid, " to CPU ", cpu, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace granary::bench
