// GetOnlineFeatures, the domain side: picks the project's catalog, the cached read plan for
// the request's shape, checks the entity rows, and starts one pipelined read of the online
// store whose replies become the response (OnlineRead). Never blocks: the answer comes through
// `done`, at once for a bad request, else from the online store's I/O thread (or, for requests
// with on-demand features, from a compute thread).
//
//   OnlineReader reader(options, catalogs, store, base::Clock::Real(), metrics);
//   reader.Read(request, deadline, [](absl::StatusOr<std::string> response) { ... });
#ifndef GRANARY_SERVICES_SERVING_ONLINE_READER_H_
#define GRANARY_SERVICES_SERVING_ONLINE_READER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/serving/v1/serving.pb.h"

#include "libs/base/clock.h"
#include "libs/onlinestore/online_store.h"
#include "libs/registry_client/catalog.h"
#include "services/serving/compute_pool.h"
#include "services/serving/read_plan.h"
#include "services/serving/serving_metrics.h"

namespace granary::serving {

struct OnlineReaderOptions {
  // The project of requests that name none.
  std::string default_project;
  // The projects this server answers for (the default one included).
  std::vector<std::string> projects;
  size_t max_entity_rows = 1000;
  // The longest a request may take, whatever deadline the client gave (or none).
  absl::Duration max_request_time = absl::Seconds(1);
  // Threads computing on-demand features off the online store's I/O threads; 0: computed on
  // the thread that completes the read.
  int compute_threads = 0;
  // How requests' plans read Redis (when a hash is read whole).
  ReadPlanOptions plan;
};

// A project's catalog, or NOT_FOUND / UNAVAILABLE saying why there is none.
using CatalogLookup = std::function<absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
    const std::string& project)>;

class OnlineReader {
 public:
  // `metrics` may be null.
  OnlineReader(OnlineReaderOptions options, CatalogLookup catalogs,
               std::shared_ptr<onlinestore::OnlineStore> store, const base::Clock& clock,
               std::shared_ptr<ServingMetrics> metrics);

  // Calls `done` exactly once with the serialized GetOnlineFeaturesResponse or an error:
  // NOT_FOUND for a project this server does not serve and for unknown features;
  // INVALID_ARGUMENT for bad entity rows; DEADLINE_EXCEEDED when the deadline passes first;
  // UNAVAILABLE when the online store or the catalog cannot be reached. `request` must stay
  // valid until then.
  // `caller_may_wait`: whether the online store may read on this thread when it is idle (see
  // AsyncRead::MayReadOnCaller), in which case `done` may be called before Read returns.
  using Done = std::function<void(absl::StatusOr<std::string> response)>;
  void Read(const v1::GetOnlineFeaturesRequest& request, absl::Time deadline, Done done,
            bool caller_may_wait = true);

  const OnlineReaderOptions& options() const { return options_; }

 private:
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> CatalogFor(
      const std::string& requested) const;

  const OnlineReaderOptions options_;
  const CatalogLookup catalogs_;
  const std::shared_ptr<onlinestore::OnlineStore> store_;
  const base::Clock& clock_;
  const std::shared_ptr<ServingMetrics> metrics_;
  std::shared_ptr<ComputePool> compute_;  // null: compute_threads 0
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_ONLINE_READER_H_
