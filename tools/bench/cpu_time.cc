#include "tools/bench/cpu_time.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace granary::bench {

absl::Duration CpuTime(pid_t pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return absl::ZeroDuration();
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are
  // plain. utime and stime are fields 14 and 15, in clock ticks.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return absl::ZeroDuration();
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
}

MachineCpu MachineCpuTime() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  return {absl::Seconds(static_cast<double>(user + nice + system + irq + softirq) * tick),
          absl::Seconds(static_cast<double>(steal) * tick),
          absl::Seconds(static_cast<double>(irq + softirq) * tick)};
}

}  // namespace granary::bench
