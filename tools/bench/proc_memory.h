// Memory a process holds, from /proc: resident now, and the peak since it started (the
// kernel's high-water mark), for benchmarks that promise a bound.
//
//   int64_t peak = PeakResidentBytes(ingestion_pid);
#ifndef GRANARY_TOOLS_BENCH_PROC_MEMORY_H_
#define GRANARY_TOOLS_BENCH_PROC_MEMORY_H_

#include <cstdint>

#include <sys/types.h>

namespace granary::bench {

// VmRSS and VmHWM of /proc/<pid>/status; 0 when the process cannot be read.
int64_t ResidentBytes(pid_t pid);
int64_t PeakResidentBytes(pid_t pid);
// Starts the peak over from what is resident now (/proc/<pid>/clear_refs), so that
// PeakResidentBytes measures one part of a run. False when the kernel would not.
bool ResetPeakResident(pid_t pid);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_PROC_MEMORY_H_
