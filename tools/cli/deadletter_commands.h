// `granary deadletter list|show|replay|purge`: what the materializer's workers could never
// process, through its DeadLetterService. Filters (project, feature view, consumer, reason,
// time, sequences) select the letters each verb acts on; letters stay until purged.
//
//   DeadLetterQuery query{.project = "driver_stats", .reason = "no longer"};
//   return DeadLetterList(materializer, query, {std::cout, std::cerr, false});
#ifndef GRANARY_TOOLS_CLI_DEADLETTER_COMMANDS_H_
#define GRANARY_TOOLS_CLI_DEADLETTER_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/deadletter/v1/deadletter.pb.h"

#include "tools/cli/channel.h"
#include "tools/cli/command.h"

namespace granary::cli {

struct DeadLetterQuery {
  std::string project;
  std::string feature_view;
  std::string reason;
  std::string consumer;
  // RFC 3339, or a duration meaning that long ago ("2h").
  std::string since;
  std::string until;
  // Only these letters.
  std::vector<uint64_t> sequences;
  // list: at most this many.
  int limit = 100;
  // purge: every letter, when no filter is given.
  bool all = false;
};

// INVALID_ARGUMENT naming the flag for a time that does not parse.
absl::StatusOr<deadletter::v1::DeadLetterFilter> BuildFilter(const DeadLetterQuery& query,
                                                             absl::Time now);

// Each returns the exit code: 0 done, 1 failed (the reason written to io.err), 2 bad usage.
int DeadLetterList(const Target& materializer, const DeadLetterQuery& query, CommandIo io);
int DeadLetterShow(const Target& materializer, uint64_t sequence, CommandIo io);
int DeadLetterReplay(const Target& materializer, const DeadLetterQuery& query, CommandIo io);
int DeadLetterPurge(const Target& materializer, const DeadLetterQuery& query, CommandIo io);

// Registers deadletter list, show, replay and purge on `app`; the one that runs sets *exit_code.
void AddDeadLetterCommands(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_DEADLETTER_COMMANDS_H_
