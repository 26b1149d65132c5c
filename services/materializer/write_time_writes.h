// The write-time on-demand views a feature view's write feeds, computed from its rows and written
// after them (libs/transforms/write_time.h): one step of both writers, the online writer's
// pushes and the task runner's materialization.
//
//   ASSIGN_OR_RETURN(WriteResult result, session.WriteNewer(write, deadline));
//   RETURN_IF_ERROR(WriteWriteTimeViews(catalog, write, features, session, timeout, metrics,
//                                       "task-runner"));
#ifndef GRANARY_SERVICES_MATERIALIZER_WRITE_TIME_WRITES_H_
#define GRANARY_SERVICES_MATERIALIZER_WRITE_TIME_WRITES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "libs/onlinestore/online_store.h"
#include "libs/registry_client/catalog.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

// Computes the outputs of every write-time view `write` (its values of `features`) feeds and
// writes them with `session`, each view's within `timeout`; failed outputs are counted for
// `consumer`. An error means some may not be written: the caller settles nothing.
absl::Status WriteWriteTimeViews(const registry_client::Catalog& catalog,
                                 const onlinestore::ViewWrite& write,
                                 absl::Span<const std::string> features,
                                 onlinestore::OnlineStoreSession& session, absl::Duration timeout,
                                 WriterMetrics& metrics, const std::string& consumer);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_WRITE_TIME_WRITES_H_
