// How many CPUs this process may use: its affinity mask (taskset, a container's cpuset) and
// its cgroup's CPU quota (a Kubernetes CPU limit), not the host's count. Thread pools are
// sized from it.
#ifndef GRANARY_LIBS_BASE_CPUS_H_
#define GRANARY_LIBS_BASE_CPUS_H_

namespace granary::base {

// The CPUs in the calling thread's affinity mask, capped by the cgroup's quota rounded up
// (at least 1).
int UsableCpus();

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_CPUS_H_
