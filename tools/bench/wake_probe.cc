#include "tools/bench/wake_probe.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include <sys/eventfd.h>

#include "tools/bench/report.h"

namespace granary::bench {
namespace {

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void PinThisThread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

}  // namespace

absl::StatusOr<std::vector<absl::Duration>> WakeLatencies(const WakeProbeOptions& options) {
  if (options.rate <= 0) return absl::InvalidArgumentError("the wake probe needs a rate");
  const int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  // The writer publishes when it wrote; the sleeper reads it once woken (it cannot run before
  // the write, so the value it reads is that write's).
  std::atomic<int64_t> written_at{0};
  std::vector<absl::Duration> latencies;
  std::thread sleeper([&] {
    PinThisThread(options.sleeper_cpu);
    uint64_t value;
    while (read(fd, &value, sizeof(value)) == sizeof(value)) {
      const int64_t woke = MonotonicNanos();
      if (value > 1'000'000) break;  // the writer's stop mark
      latencies.push_back(absl::Nanoseconds(woke - written_at.load()));
    }
  });
  // The writer has a thread of its own, so that pinning it leaves the caller's thread alone.
  std::thread writer([&] {
    PinThisThread(options.writer_cpu);
    const absl::Duration interval = absl::Seconds(1) / options.rate;
    const absl::Time end = absl::Now() + options.duration;
    uint64_t one = 1;
    for (absl::Time due = absl::Now(); due < end; due += interval) {
      const absl::Time now = absl::Now();
      if (due > now) absl::SleepFor(due - now);
      written_at.store(MonotonicNanos());
      if (write(fd, &one, sizeof(one)) != sizeof(one)) break;
    }
    uint64_t stop = 2'000'000'000;
    (void)!write(fd, &stop, sizeof(stop));
  });
  writer.join();
  sleeper.join();
  close(fd);
  return latencies;
}

std::vector<std::string> WakeFloorNotes(int runs) {
  std::vector<std::string> notes;
  for (const auto& [name, writer, sleeper] :
       {std::tuple{"unpinned", -1, -1}, std::tuple{"across CPUs 0 -> 1", 0, 1}}) {
    if (writer >= 0 && sysconf(_SC_NPROCESSORS_ONLN) < 2) continue;
    std::vector<double> p50, p99, p999;
    for (int run = 0; run < runs; ++run) {
      absl::StatusOr<std::vector<absl::Duration>> w = WakeLatencies({.rate = 2000,
                                                                     .duration = absl::Seconds(5),
                                                                     .writer_cpu = writer,
                                                                     .sleeper_cpu = sleeper});
      if (!w.ok() || w->empty()) {
        notes.push_back(absl::StrCat("wake probe: ", w.status().ToString()));
        return notes;
      }
      p50.push_back(absl::ToDoubleMicroseconds(Percentile(*w, 50)));
      p99.push_back(absl::ToDoubleMicroseconds(Percentile(*w, 99)));
      p999.push_back(absl::ToDoubleMicroseconds(Percentile(*w, 99.9)));
    }
    notes.push_back(absl::StrFormat(
        "the machine's wake-up (eventfd write -> the blocked reader runs, 2,000 per second, %s), "
        "%d runs: p50 %s us, p99 %s us, p99.9 %s us",
        name, runs, Show(SpreadOf(p50), 1), Show(SpreadOf(p99), 1), Show(SpreadOf(p999), 1)));
  }
  return notes;
}

}  // namespace granary::bench
