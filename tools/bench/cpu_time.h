// CPU time a process has used (user + system, all threads), so that a benchmark can say where
// the cycles of a run went: load generator, service, backend. They share the machine's cores.
//
//   absl::Duration before = CpuTime(server_pid);  ...run...  CpuTime(server_pid) - before;
#ifndef GRANARY_TOOLS_BENCH_CPU_TIME_H_
#define GRANARY_TOOLS_BENCH_CPU_TIME_H_

#include "absl/time/time.h"
#include <sys/types.h>

namespace granary::bench {

// Of process `pid`, or of this process when pid is 0. Zero when the process cannot be read.
absl::Duration CpuTime(pid_t pid = 0);

// The whole machine's CPU time from /proc/stat, summed over its CPUs: busy (user, nice,
// system, irq, softirq) and stolen (the hypervisor ran someone else while this VM wanted the
// CPU). Busy minus the measured processes' CPU is what everything else on the machine took.
// `interrupts` (irq and softirq, e.g. loopback TCP's receive work) is part of busy; whether it
// is also in some process's CPU depends on the kernel: with tick-based accounting the tick is
// charged to the interrupted process too, with IRQ time accounting to none.
struct MachineCpu {
  absl::Duration busy;
  absl::Duration steal;
  absl::Duration interrupts;
};
MachineCpu MachineCpuTime();

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_CPU_TIME_H_
