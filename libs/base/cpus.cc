#include "libs/base/cpus.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace granary::base {
namespace {

// CPUs a cgroup's quota allows (a Kubernetes CPU limit), or 0 when there is none: cgroup v2's
// cpu.max ("max 100000" or "<quota> <period>"), else v1's cfs_quota_us / cfs_period_us.
int QuotaCpus() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) {
    if (quota == "max" || period <= 0) return 0;
    return std::max(1, static_cast<int>(std::ceil(std::stod(quota) / period)));
  }
  std::ifstream v1_quota("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  std::ifstream v1_period("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double q = -1;
  if (v1_quota >> q && v1_period >> period && q > 0 && period > 0) {
    return std::max(1, static_cast<int>(std::ceil(q / period)));
  }
  return 0;
}

}  // namespace

int UsableCpus() {
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpus = online > 0 ? static_cast<int>(online) : 1;
  }
  int quota = QuotaCpus();
  return quota > 0 ? std::min(cpus, quota) : cpus;
}

}  // namespace granary::base
