// Writes a feature repository's online values from a YAML file into the online store, through
// the same guarded writes as the materializer: until ingestion and materialization exist, this
// is how `tools/dev up` makes the example answer real values. The file names its project and,
// per feature view, rows of join keys and features, each with an age (event time = now - age):
//
//   project: driver_stats
//   views:
//     - name: driver_hourly_stats
//       rows:
//         - {driver_id: 1001, age: 5m, conv_rate: 0.91, acc_rate: 0.87, avg_daily_trips: 21}
//         - {driver_id: 1006, age: 1h, conv_rate: null, acc_rate: 0.6}
//
// Values are converted by the types the registry declares (see value_text.h); `null` writes a
// null Value; a feature left out of a row leaves the stored field as it is; `age` takes 30s,
// 5m, 2h, 1d or 1d12h (zero when left out). Every problem in the file is reported at once,
// with file, line and path, and nothing is written then.
//
//   ASSIGN_OR_RETURN(std::vector<ViewResult> results, Load(options));
//   for (const ViewResult& r : results) std::cout << Summary(r) << "\n";
#ifndef GRANARY_TOOLS_ONLINE_LOADER_LOADER_H_
#define GRANARY_TOOLS_ONLINE_LOADER_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/onlinestore/online_store.h"
#include "libs/redis/options.h"
#include "libs/registry_client/catalog.h"

namespace granary::online_loader {

// A values file, read but not yet checked against the catalog.
struct ValuesFile {
  std::string source;   // where it came from (the path), for messages
  std::string yaml;     // its text
  std::string project;  // its `project:`
};

// NOT_FOUND for a missing file, INVALID_ARGUMENT for malformed YAML or a missing project.
absl::StatusOr<ValuesFile> ReadValuesFile(const std::string& path);
absl::StatusOr<ValuesFile> ParseValuesFile(std::string yaml, std::string source);

// One feature view's rows, ready for OnlineStoreSession::WriteNewer.
struct ViewRows {
  std::string view;
  onlinestore::ViewWrite write;
};

// Checks the file against the project's catalog and converts its rows, with event times
// relative to `now`. INVALID_ARGUMENT listing every problem (unknown view or column, a value
// of the wrong type, a missing or repeated entity key, ...) with file, line and path.
absl::StatusOr<std::vector<ViewRows>> BuildWrites(const ValuesFile& file,
                                                  const registry_client::Catalog& catalog,
                                                  absl::Time now);

// The project's catalog, from the registry's GetSnapshot. NOT_FOUND when the registry does not
// know the project; UNAVAILABLE or DEADLINE_EXCEEDED, naming the address, when it cannot be
// reached in time.
absl::StatusOr<std::unique_ptr<const registry_client::Catalog>> FetchCatalog(
    const std::string& registry_address, const std::string& project, absl::Duration timeout);

struct ViewResult {
  std::string view;
  int64_t rows = 0;     // in the file
  int64_t written = 0;  // newer than what was stored, hence written
};

// "driver_hourly_stats: 5 rows written", and how many were left as they were, if any.
std::string Summary(const ViewResult& result);

// Writes every view's rows (each row only if newer than the stored one), in order; stops at
// the first error, naming the view. Safe to repeat.
absl::StatusOr<std::vector<ViewResult>> WriteViews(onlinestore::OnlineStore& store,
                                                   const std::vector<ViewRows>& views,
                                                   absl::Duration timeout);

struct LoadOptions {
  std::string values_path;
  std::string registry_address = "127.0.0.1:6570";
  redis::RedisOptions redis;
  // For the registry call, and for each view's writes.
  absl::Duration timeout = absl::Seconds(10);
};

// Reads the file, fetches its project's catalog, checks and converts every row, then writes
// them; nothing is written unless the whole file is valid.
absl::StatusOr<std::vector<ViewResult>> Load(const LoadOptions& options, absl::Time now);

}  // namespace granary::online_loader

#endif  // GRANARY_TOOLS_ONLINE_LOADER_LOADER_H_
