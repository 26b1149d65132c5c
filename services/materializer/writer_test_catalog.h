// The catalog the writer tests write against: project "shop" at version 5, entity driver
// (driver_id INT64), view driver_stats created at version 3 (note STRING, seen UNIX_TIMESTAMP)
// fed by push source stats_push, whose batch source is table "stats" (created column
// "created"); and push source ghost_push whose table "missing" does not exist.
#ifndef GRANARY_SERVICES_MATERIALIZER_WRITER_TEST_CATALOG_H_
#define GRANARY_SERVICES_MATERIALIZER_WRITER_TEST_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"

#include "libs/registry_client/catalog.h"

namespace granary::materializer {

std::shared_ptr<const registry_client::Catalog> WriterTestCatalog();

struct TestRow {
  int64_t driver;
  absl::Time event;
  absl::Time created;
  std::string note;
  int64_t seen_seconds = 0;
};

// A batch of driver_stats as ingestion makes it, checked against version 5.
events::v1::PushBatch TestBatch(const std::string& batch_id, const std::vector<TestRow>& rows,
                                const std::string& push_source = "stats_push");

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_WRITER_TEST_CATALOG_H_
