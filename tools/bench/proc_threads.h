// The threads of a process, from /proc/<pid>/task: CPU time, context switches and time spent
// runnable but waiting for a CPU (schedstat's run delay) per thread name, so a benchmark can say
// where a run's cycles, wake-ups and queueing went inside serving, the load generator and
// Redis; and pinning every thread of a process to one CPU (the "separated"
// runs, where serving does not share a core with what drives it).
//
//   ThreadCounts before = ThreadsOf(pid);  ...run...
//   std::cout << PerRequest(before, ThreadsOf(pid), requests);
#ifndef GRANARY_TOOLS_BENCH_PROC_THREADS_H_
#define GRANARY_TOOLS_BENCH_PROC_THREADS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include <sys/types.h>

namespace granary::bench {

struct ThreadCount {
  int threads = 0;
  absl::Duration cpu;
  int64_t voluntary_switches = 0;    // the thread waited (a futex, a poll, a read)
  int64_t involuntary_switches = 0;  // the scheduler took the core away
  absl::Duration run_delay;          // runnable, waiting for a CPU (/proc/.../schedstat)
};

// By thread name (its comm, e.g. "grpc_global_tim"), summed over the threads of that name.
// Of this process when `pid` is 0; empty when it cannot be read.
using ThreadCounts = std::map<std::string, ThreadCount>;
ThreadCounts ThreadsOf(pid_t pid = 0);

// "name xN: 12.3 us, 0.98 + 0.01 switches, waited 4.5 us" per request for each name that ran
// between the two readings (threads started in between count from zero), the busiest first.
std::string PerRequest(const ThreadCounts& before, const ThreadCounts& after, double requests);

// How long the process's threads were runnable but not running between the two readings, all
// names together.
absl::Duration RunDelay(const ThreadCounts& before, const ThreadCounts& after);

// Every thread of process `pid` (0: this one) on CPU `cpu` only; threads it starts later
// inherit it.
absl::Status PinToCpu(pid_t pid, int cpu);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_PROC_THREADS_H_
