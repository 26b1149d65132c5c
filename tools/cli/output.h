// What the CLI prints: diffs ("+ entity driver", "~ feature_view x" with its field changes,
// "- permission y", breaking reasons), aligned tables for people, and JSON for scripts.
#ifndef GRANARY_TOOLS_CLI_OUTPUT_H_
#define GRANARY_TOOLS_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "granary/registry/v1/diff.pb.h"

#include "libs/catalog/object_kinds.h"

namespace granary::cli {

void PrintDiff(const registry::v1::Diff& diff, std::ostream& out);
// "1 to create, 2 to update, 0 to delete"
std::string DiffCounts(const registry::v1::Diff& diff);
int BreakingCount(const registry::v1::Diff& diff);

// Pretty JSON with the proto field names.
std::string ToJson(const google::protobuf::Message& message);

// Columns aligned; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out);
// The header and one row of `granary list <kind>`.
std::vector<std::string> ListHeader(catalog::ObjectKind kind);
std::vector<std::string> ListRow(catalog::ObjectKind kind, const google::protobuf::Message& m);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_OUTPUT_H_
