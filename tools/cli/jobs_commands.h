// `granary materialize`, `granary materialize-incremental` and `granary jobs`: materialization
// jobs as people and scripts use them. A job is created, then followed with WatchJob: a live
// progress line on a terminal (tasks, rows, rate, ETA), a summary at the end, exit 0 only when
// it SUCCEEDED; --detach returns once it is created.
//
//   int exit_code = -1;
//   AddJobCommands(app, &exit_code);  // each verb's callback sets it
#ifndef GRANARY_TOOLS_CLI_JOBS_COMMANDS_H_
#define GRANARY_TOOLS_CLI_JOBS_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

namespace granary::cli {

// Registers the verbs on `app`; the one that runs sets *exit_code.
void AddJobCommands(CLI::App& app, int* exit_code);

// "[##..] 3/24 tasks  1,204,000 rows read (152,000/s)  98,000 written  ETA 41s" (no ETA
// before a task finished).
std::string ProgressLine(const materialization::v1::Job& job, absl::Time now);
// The end of a job in one line: its state, tasks, rows, time and rate, and its error.
std::string JobSummary(const materialization::v1::Job& job);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_JOBS_COMMANDS_H_
