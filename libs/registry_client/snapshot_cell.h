// A value that readers get without taking a lock and writers replace atomically: the immutable
// registry snapshot on the request path. Each reading thread remembers, per cell, the last
// value it saw and the cell's generation then; while the generation is unchanged (one atomic
// load and a lookup in the thread's own small map), that value is returned. Only after a Set
// does a reader take the cell's mutex, once, to pick up the new value.
//
// What this costs: each thread keeps the value it last read alive until it reads that cell
// again (an old snapshot per idle thread at most), and the thread that drops the last
// reference frees the old value.
//
//   SnapshotCell<Catalog> cell;
//   cell.Set(std::make_shared<const Catalog>(...));
//   std::shared_ptr<const Catalog> now = cell.Get();  // lock-free unless it just changed
#ifndef GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_
#define GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace granary::registry_client {

namespace internal {
uint64_t NextCellId();

// A thread's memory of the last values it read, by cell.
struct ReaderCache {
  struct Entry {
    uint64_t generation = 0;
    std::shared_ptr<const void> value;
  };
  absl::flat_hash_map<uint64_t, Entry> entries;
  // Reads that had to take a cell's lock (a value changed, or a first read): for tests.
  uint64_t locked_reads = 0;
};
ReaderCache& ThreadReaderCache();

// Beyond this many cells read by one thread, its memory is cleared (cells are few; this
// bounds what destroyed cells leave behind).
inline constexpr size_t kMaxCellsPerThread = 256;
}  // namespace internal

template <typename T>
class SnapshotCell {
 public:
  SnapshotCell() = default;
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  std::shared_ptr<const T> Get() const {
    internal::ReaderCache& cache = internal::ThreadReaderCache();
    uint64_t generation = generation_.load(std::memory_order_acquire);
    auto it = cache.entries.find(id_);
    if (it != cache.entries.end() && it->second.generation == generation) {
      return std::static_pointer_cast<const T>(it->second.value);
    }
    ++cache.locked_reads;
    std::shared_ptr<const T> value;
    {
      absl::MutexLock lock(&mu_);
      value = value_;
      generation = generation_.load(std::memory_order_relaxed);
    }
    if (it == cache.entries.end() && cache.entries.size() >= internal::kMaxCellsPerThread) {
      cache.entries.clear();
    }
    cache.entries[id_] = {generation, value};
    return value;
  }

  void Set(std::shared_ptr<const T> value) {
    absl::MutexLock lock(&mu_);
    value_ = std::move(value);
    generation_.fetch_add(1, std::memory_order_release);
  }

 private:
  const uint64_t id_ = internal::NextCellId();
  std::atomic<uint64_t> generation_{1};
  mutable absl::Mutex mu_;
  std::shared_ptr<const T> value_ ABSL_GUARDED_BY(mu_);
};

// How many reads on this thread had to take a cell's lock (tests check the fast path).
inline uint64_t LockedReadsOnThisThread() { return internal::ThreadReaderCache().locked_reads; }

}  // namespace granary::registry_client

#endif  // GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_
