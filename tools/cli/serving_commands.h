// `granary get-online-features`: asks serving for the latest feature values of some entities
// and prints them for a person (one line per entity and feature: value, status, event time)
// or as Feast's HTTP JSON. Entity values are typed by the entity's declared type when the
// registry can be asked (so "--entity user_id=123" reaches a STRING entity as a string), and
// guessed otherwise, column by column, as `granary push` guesses a file without a schema (all
// integers: INT64; all numbers: DOUBLE; ...; else STRING).
//
//   OnlineQuery query{.features = {"driver_hourly_stats:conv_rate"},
//                     .entities = {"driver_id=1001,1002"}};
//   return GetOnlineFeatures(serving, registry, query, {std::cout, std::cerr, false});
#ifndef GRANARY_TOOLS_CLI_SERVING_COMMANDS_H_
#define GRANARY_TOOLS_CLI_SERVING_COMMANDS_H_

#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "granary/serving/v1/serving.pb.h"
#include "granary/types/v1/value.pb.h"

#include "tools/cli/command.h"

namespace granary::cli {

struct OnlineQuery {
  std::string project;
  // "view:feature" references (each entry may hold several, comma-separated).
  std::vector<std::string> features;
  std::string feature_service;
  // "join_key=value,value,..." (one entry per join key).
  std::vector<std::string> entities;
  // "column=value,value,..." for request sources (one entry per column).
  std::vector<std::string> request;
  bool full_feature_names = false;
};

// The request for `query`; `types` maps join keys and request columns to their declared types
// (may be empty).
// INVALID_ARGUMENT naming the flag for malformed input.
absl::StatusOr<serving::v1::GetOnlineFeaturesRequest> BuildOnlineRequest(
    const OnlineQuery& query, const std::map<std::string, types::v1::ValueType::Enum>& types);

// The response as a person reads it: one row per entity row and feature.
std::vector<std::vector<std::string>> OnlineTable(
    const serving::v1::GetOnlineFeaturesResponse& response, int join_keys);

// Returns the exit code: 0 answered, 1 failed (the reason written to io.err), 2 bad usage.
int GetOnlineFeatures(const Target& serving, const Target& registry, const OnlineQuery& query,
                      CommandIo io);

// Registers get-online-features on `app`; when it runs it sets *exit_code.
void AddServingCommands(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_SERVING_COMMANDS_H_
