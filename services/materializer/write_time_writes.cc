#include "services/materializer/write_time_writes.h"

#include <vector>

#include "libs/base/status_macros.h"
#include "libs/transforms/write_time.h"

namespace granary::materializer {

absl::Status WriteWriteTimeViews(const registry_client::Catalog& catalog,
                                 const onlinestore::ViewWrite& write,
                                 absl::Span<const std::string> features,
                                 onlinestore::OnlineStoreSession& session, absl::Duration timeout,
                                 WriterMetrics& metrics, const std::string& consumer) {
  int64_t failed = 0;
  ASSIGN_OR_RETURN(
      std::vector<onlinestore::ViewWrite> derived,
      transforms::DeriveWrites(catalog.serial(), catalog.repo(), write, features, &failed));
  metrics.RecordOnDemandFailures(consumer, failed);
  for (const onlinestore::ViewWrite& d : derived) {
    // Its keys are the source rows' own: a key of another type shows in the source's write.
    RETURN_IF_ERROR(session.WriteNewer(d, absl::Now() + timeout).status());
  }
  return absl::OkStatus();
}

}  // namespace granary::materializer
