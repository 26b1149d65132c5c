#include "tools/bench/proc_memory.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace granary::bench {
namespace {

// "VmRSS:     12345 kB"
int64_t StatusKb(pid_t pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(in, line);) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripSuffix(absl::StripAsciiWhitespace(rest), "kB");
    int64_t kb = 0;
    return absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kb) ? kb : 0;
  }
  return 0;
}

}  // namespace

bool ResetPeakResident(pid_t pid) {
  std::ofstream out(absl::StrCat("/proc/", pid, "/clear_refs"));
  out << "5";  // "reset the peak resident set size" (Linux 4.0 and later)
  out.flush();
  return out.good();
}

int64_t ResidentBytes(pid_t pid) { return StatusKb(pid, "VmRSS") * 1024; }
int64_t PeakResidentBytes(pid_t pid) { return StatusKb(pid, "VmHWM") * 1024; }

}  // namespace granary::bench
