#include "libs/registry_client/snapshot_cell.h"

namespace granary::registry_client::internal {

uint64_t NextCellId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

ReaderCache& ThreadReaderCache() {
  thread_local ReaderCache cache;
  return cache;
}

}  // namespace granary::registry_client::internal
