#include "services/ingestion/in_flight_budget.h"

#include "absl/strings/str_cat.h"

#include "libs/base/retry_after.h"

namespace granary::ingestion {

InFlightBudget::Lease& InFlightBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    other.budget_ = nullptr;
  }
  return *this;
}

void InFlightBudget::Lease::Release() {
  if (budget_ != nullptr) budget_->in_use_.fetch_sub(bytes_, std::memory_order_relaxed);
  budget_ = nullptr;
}

absl::StatusOr<InFlightBudget::Lease> InFlightBudget::Acquire(int64_t bytes) {
  if (bytes > max_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("the push needs ", bytes, " bytes in flight, more than the ", max_bytes_,
                     " this ingestion service may hold at once (ingestion.max_bytes_in_flight); "
                     "send smaller batches"));
  }
  int64_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (used + bytes > max_bytes_) {
      return base::WithRetryAfter(
          absl::ResourceExhaustedError(absl::StrCat(
              "ingestion holds ", used, " bytes of pushes in flight and may hold ", max_bytes_,
              " (ingestion.max_bytes_in_flight); send the batch again, with the same batch id, "
              "in a moment")),
          retry_after_);
    }
  } while (!in_use_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return Lease(this, bytes);
}

}  // namespace granary::ingestion
