// The sending half of `granary push`: a table's rows as batches on one IngestionService
// PushStream, up to `max_in_flight` batches unanswered at a time, answers matched by batch id
// in whatever order they come. A batch holds at most `batch_rows` rows and about
// `max_batch_bytes` bytes, so that each feature view's share of it fits one NATS message (the
// service refuses larger ones). A batch the service turns away for now (RESOURCE_EXHAUSTED or
// UNAVAILABLE with a retry hint) is sent again, same batch id, after the hinted wait. After
// the first failed batch no new batch is sent; those in flight are still answered.
//
//   PushReport report = PushBatches(channel, table, {.push_source = "driver_stats_push",
//                                                    .id_prefix = prefix});
//   if (!report.stream_status.ok() || !report.failures.empty()) ...
#ifndef GRANARY_TOOLS_CLI_PUSH_STREAM_H_
#define GRANARY_TOOLS_CLI_PUSH_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "granary/ingestion/v1/ingestion.pb.h"

#include "tools/cli/push_file.h"

namespace grpc {
class Channel;
}

namespace granary::cli {

struct StreamOptions {
  std::string project;
  std::string push_source;
  ingestion::v1::PushTarget to = ingestion::v1::ONLINE;
  int batch_rows = 1000;
  // A batch is cut before its columns pass this size. The ingestion service takes at most NATS'
  // max_payload (1 MiB by default) per feature view, and a view's message is larger than its
  // rows' columns (each row carries its keys and times again): half of it leaves room.
  int64_t max_batch_bytes = 512 << 10;
  int max_in_flight = 8;
  // How many times one batch is sent again after a retry hint.
  int max_retries = 30;
  // Batch i is "<id_prefix>-<i>".
  std::string id_prefix;
  // For the whole stream.
  absl::Duration timeout = absl::Minutes(10);
  // Called after each answer: rows answered so far, batches in flight.
  std::function<void(int64_t rows, int in_flight)> on_progress;
};

// A batch the ingestion service refused.
struct BatchFailure {
  int index = 0;
  std::string batch_id;
  // The batch's first row in the table, and how many it has.
  int first_row = 0;
  int rows = 0;
  // A google.rpc.Code.
  int code = 0;
  std::string message;
};

struct PushReport {
  // The batches the table was cut into.
  int total_batches = 0;
  // Batches stored, duplicates included, and their rows.
  int batches = 0;
  // Batches sent again after the service asked to wait.
  int retries = 0;
  int64_t rows = 0;
  // Batches the service had already stored.
  int duplicates = 0;
  std::set<std::string> feature_views;
  std::vector<BatchFailure> failures;
  // How the stream ended: UNAVAILABLE when the service cannot be reached, and so on. A stream
  // that ends OK with batches unanswered is INTERNAL.
  absl::Status stream_status;
};

PushReport PushBatches(const std::shared_ptr<grpc::Channel>& channel, const PushTable& table,
                       const StreamOptions& options);

// The table's rows cut into batches [first, end): at most `batch_rows` rows and, unless a row
// alone is larger, at most `max_batch_bytes` bytes of column values each.
std::vector<std::pair<int, int>> CutBatches(const PushTable& table, int batch_rows,
                                            int64_t max_batch_bytes);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_PUSH_STREAM_H_
