// Historical retrieval: GetHistoricalFeatures as the materializer runs it. The features (by
// reference or through a feature service) are resolved against the registry, the entity rows
// (inline, copied into a temporary table, or a query over the offline database) are joined
// point in time with every view in one statement (libs/offlinestore), and the result streams
// back with COPY, a batch at a time: the header, then rows in the entity rows' order, memory
// flat whatever the size of the result (the caller's pace holds the read back; the entity rows
// of an inline request are in the request, bounded by gRPC's message size). The connection's
// session is reset (DISCARD ALL) after each retrieval: the SQL that ran cannot leave settings
// or locks behind for the pool's next user.
//
//   Historical historical(options, offline, lookup);
//   RETURN_IF_ERROR(historical.Run(request, [&](const Response& part) { return w->Write(part); }));
#ifndef GRANARY_SERVICES_MATERIALIZER_HISTORICAL_H_
#define GRANARY_SERVICES_MATERIALIZER_HISTORICAL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

#include "libs/pg/pool.h"
#include "services/materializer/online_writer.h"

namespace granary::materializer {

struct HistoricalOptions {
  // The project of requests that name none; empty: requests must name one.
  std::string default_project;
  // Rows per response message.
  size_t batch_rows = 1000;
  // The longest a retrieval's statement may run.
  absl::Duration statement_timeout = absl::Hours(1);
  // Told how many on-demand outputs failed (and are null) in each retrieval; may be empty.
  std::function<void(int64_t)> on_demand_failed;
};

class Historical {
 public:
  Historical(HistoricalOptions options, std::shared_ptr<pg::Pool> offline, CatalogLookup lookup);

  // Streams the training set to `send` (false: the caller went away, CANCELLED). Errors name
  // what is wrong: NOT_FOUND for an unknown project, feature service, view or feature, or a
  // missing table or column; INVALID_ARGUMENT for malformed references or entity rows.
  // The join's statement stops at `deadline` (DEADLINE_EXCEEDED) or the configured limit.
  absl::Status Run(
      const materialization::v1::GetHistoricalFeaturesRequest& request,
      const std::function<bool(const materialization::v1::GetHistoricalFeaturesResponse&)>& send,
      absl::Time deadline = absl::InfiniteFuture());

 private:
  const HistoricalOptions options_;
  const std::shared_ptr<pg::Pool> offline_;
  const CatalogLookup lookup_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_HISTORICAL_H_
