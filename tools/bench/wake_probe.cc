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

// False when the thread could not be pinned (a cpuset without that CPU).
bool PinThisThread(int cpu) {
  if (cpu < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace

absl::StatusOr<std::vector<absl::Duration>> WakeLatencies(const WakeProbeOptions& options) {
  if (options.rate <= 0) return absl::InvalidArgumentError("the wake probe needs a rate");
  const int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  // Each write's time, by sequence number, published before the write: a sleeper woken late
  // reads several writes at once (the eventfd adds them up) and times each against its own.
  const size_t writes =
      static_cast<size_t>(options.rate * absl::ToDoubleSeconds(options.duration)) + 2;
  std::vector<std::atomic<int64_t>> written_at(writes);
  std::atomic<bool> pinned{true};
  std::vector<absl::Duration> latencies;
  latencies.reserve(writes);
  std::thread sleeper([&] {
    if (!PinThisThread(options.sleeper_cpu)) pinned.store(false);
    uint64_t value;
    size_t seen = 0;
    while (read(fd, &value, sizeof(value)) == sizeof(value)) {
      const int64_t woke = MonotonicNanos();
      for (uint64_t k = 0; k < value && seen < writes; ++k, ++seen) {
        const int64_t at = written_at[seen].load();
        if (at == 0) return;  // the writer's stop mark
        latencies.push_back(absl::Nanoseconds(woke - at));
      }
      if (seen >= writes) return;
    }
  });
  // The writer has a thread of its own, so that pinning it leaves the caller's thread alone.
  std::thread writer([&] {
    if (!PinThisThread(options.writer_cpu)) pinned.store(false);
    const absl::Duration interval = absl::Seconds(1) / options.rate;
    const absl::Time end = absl::Now() + options.duration;
    uint64_t one = 1;
    size_t n = 0;
    for (absl::Time due = absl::Now(); due < end && n + 1 < writes; due += interval, ++n) {
      const absl::Time now = absl::Now();
      if (due > now) absl::SleepFor(due - now);
      written_at[n].store(MonotonicNanos());
      if (write(fd, &one, sizeof(one)) != sizeof(one)) break;
    }
    // written_at[n] stays 0: the sleeper stops there.
    (void)!write(fd, &one, sizeof(one));
  });
  writer.join();
  sleeper.join();
  close(fd);
  if (!pinned.load()) {
    return absl::FailedPreconditionError(
        absl::StrCat("could not pin the wake probe's threads to CPUs ", options.writer_cpu, " and ",
                     options.sleeper_cpu));
  }
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
