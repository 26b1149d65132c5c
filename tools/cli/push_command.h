// `granary push`: sends the rows of a CSV or JSON file to a push source through the ingestion
// service's PushStream, several batches in flight. Columns are typed by the push source's schema
// from the registry (its batch source's timestamp columns, and the entities and features of the
// feature views it feeds); without the registry, types are guessed with a warning.
//
// Batch ids are "<content hash>-<index>", the hash covering the file, the project, the push
// source, the target and the batch sizes: pushing the same file again is stored once (the
// ingestion service answers those batches as duplicates). Batches are cut by rows and by size,
// so that each fits what the ingestion service takes (push_stream.h). A file with `now` cells
// hashes the push time too, so it is fresh data each time.
//
//   PushOptions options{.project = "driver_stats", .push_source = "driver_stats_push",
//                       .file = "rows.csv"};
//   return RunPush(ingestion, registry, options, {std::cout, std::cerr, false});
#ifndef GRANARY_TOOLS_CLI_PUSH_COMMAND_H_
#define GRANARY_TOOLS_CLI_PUSH_COMMAND_H_

#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "granary/ingestion/v1/ingestion.pb.h"
#include "granary/registry/v1/repo.pb.h"

#include "tools/cli/command.h"

namespace granary::cli {

struct PushOptions {
  // Empty: the ingestion service's configured project.
  std::string project;
  std::string push_source;
  // A .csv or .json file.
  std::string file;
  ingestion::v1::PushTarget to = ingestion::v1::ONLINE;
  int batch_rows = 1000;
  // See StreamOptions::max_batch_bytes.
  int64_t max_batch_bytes = 512 << 10;
  // Batches sent before their acks come back.
  int max_in_flight = 8;
  // Redraw a progress line on io.err (for a terminal).
  bool progress = false;
  // What `now` means in timestamp cells.
  absl::Time now = absl::Now();
};

// What the rows of a push source hold, from its project's catalog.
struct PushSchema {
  // Column -> type: join keys, timestamp columns and features.
  std::map<std::string, types::v1::ValueType::Enum> types;
  // The feature views whose stream source it is.
  std::vector<std::string> feature_views;
};

// NOT_FOUND when the project has no such data source, INVALID_ARGUMENT when it is not a push
// source.
absl::StatusOr<PushSchema> PushSourceSchema(const registry::v1::FeatureRepo& repo,
                                            const std::string& push_source);

// "online", "offline" or "online_and_offline"; INVALID_ARGUMENT naming --to otherwise.
absl::StatusOr<ingestion::v1::PushTarget> ParsePushTarget(absl::string_view text);

// The part of the batch ids shared by one push (32 hex digits); see above.
std::string BatchIdPrefix(absl::string_view content, const PushOptions& options, bool used_now);

// Returns the exit code: 0 every batch stored, 1 failed (the reasons written to io.err),
// 2 bad usage.
int RunPush(const Target& ingestion, const Target& registry, const PushOptions& options,
            CommandIo io);

// Registers push on `app`; when it runs it sets *exit_code.
void AddPushCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_PUSH_COMMAND_H_
