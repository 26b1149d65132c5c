#include "tools/bench/raw_tools.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include <sys/wait.h>

#include "libs/base/status_macros.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/subprocess.h"

namespace granary::bench {

absl::StatusOr<RawFigures> RunRedisBenchmark(int port, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"redis-benchmark",  "-h",   "127.0.0.1", "-p",
                                   absl::StrCat(port), "--csv"};
  argv.insert(argv.end(), args.begin(), args.end());
  // The command is the first argument that is not an option or an option's value.
  std::string command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (absl::StartsWith(args[i], "-")) {
      ++i;
      continue;
    }
    command = args[i];
    break;
  }
  ASSIGN_OR_RETURN(auto process, testing::Subprocess::Start({.argv = argv}));
  ASSIGN_OR_RETURN(int exit_code, process->Wait(absl::Minutes(5)));
  std::string output = process->Output();
  if (exit_code != 0) return absl::InternalError("redis-benchmark failed:\n" + output);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
  // "p99_latency_ms","max_latency_ms"
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::StartsWith(line, absl::StrCat("\"", command))) continue;
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line, "\",\"")) {
      cells.emplace_back(absl::StripSuffix(absl::StripPrefix(cell, "\""), "\""));
    }
    RawFigures f;
    if (cells.size() >= 7 && absl::SimpleAtod(cells[1], &f.rps) &&
        absl::SimpleAtod(cells[4], &f.p50_ms) && absl::SimpleAtod(cells[6], &f.p99_ms)) {
      return f;
    }
  }
  return absl::InternalError("cannot read redis-benchmark's output:\n" + output);
}

absl::StatusOr<absl::Duration> TimeShell(const std::string& command) {
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(auto p, testing::Subprocess::Start({.argv = {"bash", "-c", command}}));
  ASSIGN_OR_RETURN(int status, p->Wait(absl::Minutes(10)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command, "\n", p->Output()));
  }
  return absl::Now() - start;
}

}  // namespace granary::bench
