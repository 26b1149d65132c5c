#include "services/serving/online_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "services/serving/online_read.h"
#include "services/serving/plan_cache.h"

namespace granary::serving {

OnlineReader::OnlineReader(OnlineReaderOptions options, CatalogLookup catalogs,
                           std::shared_ptr<onlinestore::OnlineStore> store,
                           const base::Clock& clock, std::shared_ptr<ServingMetrics> metrics)
    : options_(std::move(options)),
      catalogs_(std::move(catalogs)),
      store_(std::move(store)),
      clock_(clock),
      metrics_(std::move(metrics)),
      compute_(options_.compute_threads > 0
                   ? std::make_shared<ComputePool>(options_.compute_threads)
                   : nullptr) {}

absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> OnlineReader::CatalogFor(
    const std::string& requested) const {
  const std::string& project = requested.empty() ? options_.default_project : requested;
  if (std::find(options_.projects.begin(), options_.projects.end(), project) ==
      options_.projects.end()) {
    return absl::NotFoundError(absl::StrCat("project: '", project,
                                            "' is not served here (this server serves ",
                                            absl::StrJoin(options_.projects, ", "), ")"));
  }
  return catalogs_(project);
}

void OnlineReader::Read(const v1::GetOnlineFeaturesRequest& request, absl::Time deadline, Done done,
                        bool caller_may_wait) {
  // Deadlines are real time; the clock is what values age against (tests pin it).
  const absl::Time real_now = absl::Now();
  deadline = std::min(deadline, real_now + options_.max_request_time);
  if (deadline <= real_now) {
    done(absl::DeadlineExceededError("the deadline passed before the request was read"));
    return;
  }
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> catalog =
      CatalogFor(request.project());
  if (!catalog.ok()) {
    done(catalog.status());
    return;
  }
  absl::StatusOr<std::shared_ptr<const ReadPlan>> plan =
      CachedPlan(**catalog, request, options_.plan);
  if (!plan.ok()) {
    done(plan.status());
    return;
  }
  auto read =
      std::make_unique<OnlineRead>(*std::move(plan), clock_.Now(), deadline, caller_may_wait);
  absl::Status prepared =
      read->Prepare(request.entities(), request.request_context(), options_.max_entity_rows);
  if (!prepared.ok()) {
    done(std::move(prepared));
    return;
  }
  read.release()->Start(
      *store_,
      [metrics = metrics_, done = std::move(done)](absl::StatusOr<std::string> response,
                                                   const ReadCounts& counts) {
        if (metrics != nullptr && response.ok()) metrics->RecordRead(counts);
        done(std::move(response));
      },
      compute_);
}

}  // namespace granary::serving
