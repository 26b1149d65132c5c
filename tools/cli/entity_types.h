// The declared type of each join key and request column of a project, from the registry's
// snapshot: how the CLI types entity and request values a person typed or a CSV file holds, so
// that "00123" reaches a STRING entity as "00123", not as the integer 123.
//
//   std::map<std::string, ValueType::Enum> types =
//       EntityTypes(registry, project, "get-historical-features", std::cerr);
#ifndef GRANARY_TOOLS_CLI_ENTITY_TYPES_H_
#define GRANARY_TOOLS_CLI_ENTITY_TYPES_H_

#include <map>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "granary/types/v1/value.pb.h"

#include "tools/cli/channel.h"

namespace granary::cli {

// Join key -> its entity's type, and request-source column -> its declared type. Empty, with a
// warning on `err` naming `verb`, when the registry cannot be asked: the values are then typed by
// what they look like.
std::map<std::string, types::v1::ValueType::Enum> EntityTypes(const Target& registry,
                                                              const std::string& project,
                                                              absl::string_view verb,
                                                              std::ostream& err);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_ENTITY_TYPES_H_
