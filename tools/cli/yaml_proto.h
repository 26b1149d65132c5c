// Feature-repo YAML to protobuf and back, by reflection: a YAML mapping's keys are the
// message's field names (snake_case), lists are repeated fields, enums are given by name
// (case-insensitive; value types also by Feast's names such as Float32 and Int64), durations
// as "86400s", "24h" or "1d". Problems (unknown keys, wrong types, bad enum names) go into the
// config::Reader, with file, line and path. Output-only fields are not accepted.
//
//   ReadMessage(reader_for_one_view, &feature_view);
//   std::string yaml = MessageToYaml(feature_view);   // the same shape, for `describe`
#ifndef GRANARY_TOOLS_CLI_YAML_PROTO_H_
#define GRANARY_TOOLS_CLI_YAML_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"

#include "libs/config/reader.h"

namespace granary::cli {

void ReadMessage(config::Reader& reader, google::protobuf::Message* message);

std::string MessageToYaml(const google::protobuf::Message& message);

// "1d12h", "86400s", "90m"; INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Duration> ParseRepoDuration(absl::string_view text);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_YAML_PROTO_H_
