// Other programs the CLI drives (kubectl, docker compose, tools/dev): found on PATH, run with
// the CLI's own stderr, their output captured or their input given.
#ifndef GRANARY_TOOLS_CLI_PROGRAM_H_
#define GRANARY_TOOLS_CLI_PROGRAM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace granary::cli {

// Its standard output, when it exits 0; FAILED_PRECONDITION naming the program and its exit
// status otherwise, NOT_FOUND when it cannot be started.
absl::StatusOr<std::string> CaptureProgram(const std::vector<std::string>& argv);

// Runs it with `input` on its standard input and the CLI's stdout and stderr; its exit
// status (NOT_FOUND when it cannot be started).
absl::StatusOr<int> RunProgram(const std::vector<std::string>& argv, const std::string& input = "");

// Whether `name` is an executable on PATH (or a path to one).
bool HasProgram(const std::string& name);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_PROGRAM_H_
