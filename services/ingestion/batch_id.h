// The batch id of a unary Push that names none, derived from what it pushes: the project, the
// push source, the target and the columns (serialized deterministically, map keys sorted). A
// producer that retries after a timeout sends the same request, gets the same id, and the
// retry is answered `duplicate` instead of being stored twice.
//
//   std::string id = ContentBatchId(project, request);  // "c-" and 32 hex digits
#ifndef GRANARY_SERVICES_INGESTION_BATCH_ID_H_
#define GRANARY_SERVICES_INGESTION_BATCH_ID_H_

#include <string>

#include "absl/strings/string_view.h"
#include "granary/ingestion/v1/ingestion.pb.h"

namespace granary::ingestion {

// `project` is the one the push goes to (the request's, or the service's default).
std::string ContentBatchId(absl::string_view project, const v1::PushRequest& request);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_BATCH_ID_H_
