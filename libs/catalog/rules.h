// Rules of the catalog that several places must apply the same way: what a valid name is,
// which fields the registry sets (never users), how items of a list are identified when two
// versions are compared, and how a list of problems becomes one error.
#ifndef GRANARY_LIBS_CATALOG_RULES_H_
#define GRANARY_LIBS_CATALOG_RULES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace granary::catalog {

// Letters, digits and underscores, not starting with a digit, at most 255 bytes. Object and
// feature names end up in Redis field names ("view:feature") and SQL, hence the strictness.
bool IsObjectName(absl::string_view name);
// Lower-case letters, digits and underscores, starting with a letter, at most 63 bytes.
bool IsProjectName(absl::string_view name);

// Set by the registry: never part of a diff, never read from a repo's files.
bool IsOutputOnly(const google::protobuf::FieldDescriptor* field);

// How an item of a repeated field is identified across versions: a schema field by its name,
// a projection by the name it is returned under (its alias, else its view), an on-demand
// view's source by its projection's or its request source's name. Empty when the items have no
// identity (they are then compared by position).
std::string ItemKey(const google::protobuf::Message& item);

// INVALID_ARGUMENT "N problems in the repo:" followed by the lines; OK when there are none.
absl::Status RepoProblems(const std::vector<std::string>& lines);

}  // namespace granary::catalog

#endif  // GRANARY_LIBS_CATALOG_RULES_H_
