// One budget of bytes for everything the ingestion service holds in flight (requests being
// checked, batches awaiting JetStream), whatever the number of producers and streams: past it
// a push is refused with RESOURCE_EXHAUSTED and a hint of when to try again, so resident memory
// stays bounded instead of growing with the load.
//
//   InFlightBudget budget(256 << 20);
//   ASSIGN_OR_RETURN(InFlightBudget::Lease lease, budget.Acquire(bytes));  // released with it
#ifndef GRANARY_SERVICES_INGESTION_IN_FLIGHT_BUDGET_H_
#define GRANARY_SERVICES_INGESTION_IN_FLIGHT_BUDGET_H_

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace granary::ingestion {

class InFlightBudget {
 public:
  // A share of the budget, given back when destroyed (or moved from and then destroyed).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
      other.budget_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }

    int64_t bytes() const { return budget_ == nullptr ? 0 : bytes_; }

   private:
    friend class InFlightBudget;
    Lease(InFlightBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
    void Release();
    InFlightBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
  };

  // `retry_after`: the hint a refusal carries.
  explicit InFlightBudget(int64_t max_bytes, absl::Duration retry_after = absl::Milliseconds(200))
      : max_bytes_(max_bytes), retry_after_(retry_after) {}

  // RESOURCE_EXHAUSTED (with base::RetryAfter) when `bytes` do not fit beside what is in use;
  // INVALID_ARGUMENT when they could never fit.
  absl::StatusOr<Lease> Acquire(int64_t bytes);

  int64_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int64_t max_bytes() const { return max_bytes_; }

 private:
  const int64_t max_bytes_;
  const absl::Duration retry_after_;
  std::atomic<int64_t> in_use_{0};
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_IN_FLIGHT_BUDGET_H_
