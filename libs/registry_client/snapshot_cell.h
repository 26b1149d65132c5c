// A value that readers get without taking a lock and writers replace atomically: the immutable
// registry snapshot on the request path. Each reading thread keeps the last value it saw with
// the cell's generation; while the generation is unchanged (a single atomic load), that copy
// is returned. Only after a Set does a reader take the cell's mutex, once, to pick up the
// new value.
//
//   SnapshotCell<Catalog> cell;
//   cell.Set(std::make_shared<const Catalog>(...));
//   std::shared_ptr<const Catalog> now = cell.Get();  // lock-free unless it just changed
#ifndef GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_
#define GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace granary::registry_client {

namespace internal {
uint64_t NextCellId();

// A thread's memory of the last values it read, from up to 8 cells.
struct ReaderCache {
  struct Entry {
    uint64_t cell = 0;
    uint64_t generation = 0;
    std::shared_ptr<const void> value;
  };
  std::array<Entry, 8> entries;
  size_t next = 0;
};
ReaderCache& ThreadReaderCache();
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
    for (const auto& e : cache.entries) {
      if (e.cell == id_ && e.generation == generation) {
        return std::static_pointer_cast<const T>(e.value);
      }
    }
    std::shared_ptr<const T> value;
    {
      absl::MutexLock lock(&mu_);
      value = value_;
      generation = generation_.load(std::memory_order_relaxed);
    }
    internal::ReaderCache::Entry* slot = nullptr;
    for (auto& e : cache.entries) {
      if (e.cell == id_) slot = &e;
    }
    if (slot == nullptr) {
      slot = &cache.entries[cache.next];
      cache.next = (cache.next + 1) % cache.entries.size();
    }
    *slot = {id_, generation, value};
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

}  // namespace granary::registry_client

#endif  // GRANARY_LIBS_REGISTRY_CLIENT_SNAPSHOT_CELL_H_
