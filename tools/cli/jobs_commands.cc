#include "tools/cli/jobs_commands.h"

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "tools/cli/command.h"
#include "tools/cli/output.h"
#include "tools/cli/repo_loader.h"
#include "tools/cli/time_text.h"

namespace granary::cli {
namespace {

namespace v1 = materialization::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);

// What every job verb takes.
struct JobFlags {
  std::string repo = ".";
  std::string project;
  std::string materializer;
  bool json = false;
  // Resolved from the above, the global flags and granary.yaml.
  Target target;
};

void AddCommonFlags(CLI::App* cmd, JobFlags& flags) {
  cmd->add_option("--repo,-r", flags.repo, "The feature repository folder (default: .)");
  cmd->add_option("--project,-p", flags.project, "The project (default: granary.yaml)");
  cmd->add_option("--materializer", flags.materializer,
                  "The materializer, host:port (default: granary.yaml materializer_endpoint, "
                  "else through the gateway)");
  cmd->add_flag("--json", flags.json, "Print JSON for scripts");
}

// Flags first, then granary.yaml, then the defaults; false (said why) when granary.yaml is
// there and cannot be read.
bool Resolve(const CLI::App* cmd, const std::string& verb, JobFlags& flags) {
  absl::StatusOr<RepoConfig> defaults = RepoDefaults(flags.repo);
  if (!defaults.ok()) {
    Failure(verb, defaults.status().message());
    return false;
  }
  absl::StatusOr<Targets> targets =
      ResolveTargets(GlobalFlagsOf(cmd), {.materializer = flags.materializer}, *defaults);
  if (!targets.ok()) {
    Failure(verb, targets.status().message());
    return false;
  }
  flags.project = Either(flags.project, defaults->project.name());
  flags.target = targets->materializer;
  return true;
}

int Fail(const std::string& verb, const JobFlags& flags, const grpc::Status& status) {
  std::cerr << "granary " << verb << ": " << status.error_message() << " ("
            << base::StatusCodeName(status.error_code()) << ", materializer at "
            << flags.target.address << ")"
            << AuthHint(flags.target, static_cast<absl::StatusCode>(status.error_code())) << "\n";
  return kExitFailure;
}

std::unique_ptr<v1::MaterializationService::Stub> Stub(const JobFlags& flags) {
  return v1::MaterializationService::NewStub(OpenChannel(flags.target));
}

std::string Count(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Seconds(absl::Duration d) {
  if (d < absl::Minutes(2)) return absl::StrCat(absl::ToInt64Seconds(d), "s");
  if (d < absl::Hours(2)) return absl::StrCat(absl::ToInt64Minutes(d), "m");
  return absl::StrCat(absl::ToInt64Hours(d), "h");
}

std::string When(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", base::FromProtoTime(t), absl::UTCTimeZone());
}

std::string Ranges(const v1::Job& job) {
  std::vector<std::string> parts;
  for (const auto& r : job.ranges()) {
    parts.push_back(
        absl::StrCat(r.feature_view(), " [", When(r.start_time()), ", ", When(r.end_time()), ")"));
  }
  return parts.empty() ? "nothing to do" : absl::StrJoin(parts, "; ");
}

// Follows the job to its end, drawing progress on stderr when it is a terminal. A stream cut
// by the replica that served it (restarted, drained, killed) is opened again, on any replica:
// the job goes on without it.
int Follow(const std::string& verb, const JobFlags& flags, v1::Job job) {
  const bool live = isatty(STDERR_FILENO) != 0 && !flags.json;
  v1::WatchJobRequest request;
  request.set_job_id(job.job_id());
  grpc::Status status;
  for (int cut = 0; cut < 30; ++cut) {
    grpc::ClientContext context;  // no deadline: a job takes as long as it takes
    auto reader = Stub(flags)->WatchJob(&context, request);
    while (reader->Read(&job)) {
      if (live) std::cerr << "\r\033[K" << ProgressLine(job, absl::Now()) << std::flush;
    }
    status = reader->Finish();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::CANCELLED) {
      break;
    }
    absl::SleepFor(absl::Seconds(1));
  }
  if (live) std::cerr << "\n";
  if (!status.ok()) return Fail(verb, flags, status);
  if (flags.json) {
    std::cout << ToJson(job) << "\n";
  } else {
    std::cout << JobSummary(job) << "\n";
  }
  return job.state() == v1::SUCCEEDED ? 0 : kExitFailure;
}

int Started(const std::string& verb, const JobFlags& flags, bool detach, const v1::Job& job) {
  if (detach) {
    if (flags.json) {
      std::cout << ToJson(job) << "\n";
    } else {
      std::cout << "job " << job.job_id() << " " << v1::JobState_Name(job.state()) << ": "
                << job.tasks_total() << " tasks over " << Ranges(job) << "\n"
                << "follow it with: granary jobs show " << job.job_id() << "\n";
    }
    return 0;
  }
  if (!flags.json) {
    std::cerr << "job " << job.job_id() << ": " << job.tasks_total() << " tasks over "
              << Ranges(job) << "\n";
  }
  return Follow(verb, flags, job);
}

std::vector<std::string> Views(const std::string& views) {
  std::vector<std::string> out;
  for (absl::string_view v : absl::StrSplit(views, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(v));
  }
  return out;
}

}  // namespace

std::string ProgressLine(const v1::Job& job, absl::Time now) {
  // The rate is of offline rows read (what the job's length depends on); the written count is
  // of entities stored online (the latest row of each).
  constexpr int kBarWidth = 20;
  const int filled =
      job.tasks_total() > 0
          ? static_cast<int>(int64_t{kBarWidth} * job.tasks_succeeded() / job.tasks_total())
          : 0;
  std::string line = absl::StrCat(
      "[", std::string(filled, '#'), std::string(kBarWidth - filled, '.'), "] ",
      job.tasks_succeeded(), "/", job.tasks_total(), " tasks  ", Count(job.rows_read()),
      " rows read (", Count(static_cast<int64_t>(job.rows_per_second())), "/s)  ",
      Count(job.rows_written()), " written");
  if (job.has_started_time() && job.tasks_succeeded() > 0 &&
      job.tasks_succeeded() < job.tasks_total()) {
    const absl::Duration elapsed = now - base::FromProtoTime(job.started_time());
    absl::StrAppend(
        &line, "  ETA ",
        Seconds(elapsed * (job.tasks_total() - job.tasks_succeeded()) / job.tasks_succeeded()));
  }
  if (job.task_retries() > 0) {
    absl::StrAppend(&line, "  ", job.task_retries(), " retries (", job.last_task_error(), ")");
  }
  return line;
}

std::string JobSummary(const v1::Job& job) {
  std::string line =
      absl::StrCat("job ", job.job_id(), " ", v1::JobState_Name(job.state()), ": ",
                   job.tasks_succeeded(), "/", job.tasks_total(), " tasks, ",
                   Count(job.rows_read()), " rows read, ", Count(job.rows_written()), " written");
  if (job.has_started_time() && job.has_finished_time()) {
    const absl::Duration took =
        base::FromProtoTime(job.finished_time()) - base::FromProtoTime(job.started_time());
    absl::StrAppend(&line, " in ", absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))),
                    " (", Count(static_cast<int64_t>(job.rows_per_second())), " rows read/s)");
  }
  if (!job.error().empty()) absl::StrAppend(&line, "\n  error: ", job.error());
  return line;
}

void AddJobCommands(CLI::App& app, int* exit_code) {
  // Owned by the callbacks: they run after parsing, once.
  auto flags = std::make_shared<JobFlags>();
  auto views = std::make_shared<std::string>();
  auto times = std::make_shared<std::vector<std::string>>();
  auto shards = std::make_shared<int>(0);
  auto force = std::make_shared<bool>(false);
  auto detach = std::make_shared<bool>(false);

  auto add_job_flags = [&](CLI::App* cmd) {
    AddCommonFlags(cmd, *flags);
    cmd->add_option("--views", *views,
                    "Only these feature views, comma-separated (default: all "
                    "online views with a batch source)");
    cmd->add_option("--shards", *shards, "Entity-hash shards per view (default: the server's)");
    cmd->add_flag("--force", *force, "Run even while another job materializes one of the views");
    cmd->add_flag("--detach", *detach, "Return once the job is created");
  };

  CLI::App* materialize = app.add_subcommand(
      "materialize",
      "Copy the latest values of [START, END) from the offline store to the online "
      "store");
  materialize->add_option("times", *times, "START END: " + std::string(kTimeForms))
      ->required()
      ->expected(2);
  add_job_flags(materialize);
  materialize->callback([=] {
    const std::string verb = "materialize";
    if (!Resolve(materialize, verb, *flags)) return void(*exit_code = kExitFailure);
    const absl::Time now = absl::Now();
    v1::MaterializeRequest request;
    request.set_project(flags->project);
    for (size_t i = 0; i < 2; ++i) {
      absl::StatusOr<absl::Time> t = ParseTimeText((*times)[i], now);
      if (!t.ok()) {
        std::cerr << "granary materialize: " << (i == 0 ? "START" : "END") << ": "
                  << t.status().message() << "\n";
        return void(*exit_code = kExitUsage);
      }
      *(i == 0 ? request.mutable_start_time() : request.mutable_end_time()) = base::ToProtoTime(*t);
    }
    for (const std::string& v : Views(*views)) request.add_feature_views(v);
    request.set_shards(*shards);
    request.set_force(*force);
    v1::Job job;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    grpc::Status status = Stub(*flags)->Materialize(&context, request, &job);
    *exit_code = status.ok() ? Started(verb, *flags, *detach, job) : Fail(verb, *flags, status);
  });

  CLI::App* incremental = app.add_subcommand(
      "materialize-incremental",
      "Materialize each view from where its last materialization ended (else END - ttl) to END");
  auto end_text = std::make_shared<std::string>();
  incremental->add_option("end", *end_text, "END: " + std::string(kTimeForms))->required();
  add_job_flags(incremental);
  incremental->callback([=] {
    const std::string verb = "materialize-incremental";
    if (!Resolve(incremental, verb, *flags)) return void(*exit_code = kExitFailure);
    absl::StatusOr<absl::Time> end = ParseTimeText(*end_text, absl::Now());
    if (!end.ok()) {
      std::cerr << "granary " << verb << ": END: " << end.status().message() << "\n";
      return void(*exit_code = kExitUsage);
    }
    v1::MaterializeIncrementalRequest request;
    request.set_project(flags->project);
    *request.mutable_end_time() = base::ToProtoTime(*end);
    for (const std::string& v : Views(*views)) request.add_feature_views(v);
    request.set_shards(*shards);
    request.set_force(*force);
    v1::Job job;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    grpc::Status status = Stub(*flags)->MaterializeIncremental(&context, request, &job);
    *exit_code = status.ok() ? Started(verb, *flags, *detach, job) : Fail(verb, *flags, status);
  });

  auto state = std::make_shared<std::string>();
  auto all_projects = std::make_shared<bool>(false);
  auto limit = std::make_shared<int>(20);
  auto job_id = std::make_shared<std::string>();
  CLI::App* jobs = app.add_subcommand("jobs", "Materialization jobs, newest first");
  AddCommonFlags(jobs, *flags);
  jobs->add_option("--state", *state,
                   "Only jobs in this state: PENDING, RUNNING, SUCCEEDED, "
                   "FAILED, CANCELLED");
  jobs->add_flag("--all-projects", *all_projects, "Every project's jobs");
  jobs->add_option("--limit,-n", *limit, "At most this many (default 20, at most 1000)");
  CLI::App* show = jobs->add_subcommand("show", "One job in full; --watch follows it to its end");
  show->add_option("id", *job_id, "The job's id")->required();
  auto watch = std::make_shared<bool>(false);
  show->add_flag("--watch", *watch, "Follow the job until it ends");
  AddCommonFlags(show, *flags);
  CLI::App* cancel = jobs->add_subcommand("cancel", "Stop a job: tasks not started are skipped");
  cancel->add_option("id", *job_id, "The job's id")->required();
  AddCommonFlags(cancel, *flags);

  show->callback([=] {
    if (!Resolve(show, "jobs show", *flags)) return void(*exit_code = kExitFailure);
    v1::GetJobRequest request;
    request.set_job_id(*job_id);
    v1::Job job;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    grpc::Status status = Stub(*flags)->GetJob(&context, request, &job);
    if (!status.ok()) return void(*exit_code = Fail("jobs show", *flags, status));
    if (*watch) return void(*exit_code = Follow("jobs show", *flags, job));
    if (flags->json) {
      std::cout << ToJson(job) << "\n";
    } else {
      std::cout << JobSummary(job) << "\n"
                << "  project:  " << job.project() << "\n"
                << "  kind:     " << v1::JobKind_Name(job.kind()) << "\n"
                << "  ranges:   " << Ranges(job) << "\n"
                << "  created:  " << When(job.created_time()) << " by " << job.created_by() << "\n"
                << "  started:  " << (job.has_started_time() ? When(job.started_time()) : "-")
                << "\n"
                << "  finished: " << (job.has_finished_time() ? When(job.finished_time()) : "-")
                << "\n"
                << "  progress: " << ProgressLine(job, absl::Now()) << "\n";
    }
    *exit_code = 0;
  });
  cancel->callback([=] {
    if (!Resolve(cancel, "jobs cancel", *flags)) return void(*exit_code = kExitFailure);
    v1::CancelJobRequest request;
    request.set_job_id(*job_id);
    v1::Job job;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    grpc::Status status = Stub(*flags)->CancelJob(&context, request, &job);
    if (!status.ok()) return void(*exit_code = Fail("jobs cancel", *flags, status));
    std::cout << (flags->json ? ToJson(job) : JobSummary(job)) << "\n";
    *exit_code = 0;
  });
  jobs->callback([=] {
    if (show->parsed() || cancel->parsed()) return;
    if (!Resolve(jobs, "jobs", *flags)) return void(*exit_code = kExitFailure);
    v1::ListJobsRequest request;
    if (!*all_projects) request.set_project(flags->project);
    if (!state->empty() && !v1::JobState_Parse(*state, nullptr)) {
      std::cerr << "granary jobs: --state: one of PENDING, RUNNING, SUCCEEDED, FAILED, "
                   "CANCELLED\n";
      return void(*exit_code = kExitUsage);
    }
    if (!state->empty()) {
      v1::JobState s;
      v1::JobState_Parse(*state, &s);
      request.set_state(s);
    }
    if (*limit < 1 || *limit > 1000) {
      std::cerr << "granary jobs: --limit: between 1 and 1000\n";
      return void(*exit_code = kExitUsage);
    }
    request.set_page_size(*limit);
    v1::ListJobsResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    grpc::Status status = Stub(*flags)->ListJobs(&context, request, &response);
    if (!status.ok()) return void(*exit_code = Fail("jobs", *flags, status));
    if (flags->json) {
      std::cout << ToJson(response) << "\n";
      return void(*exit_code = 0);
    }
    std::vector<std::vector<std::string>> rows = {
        {"JOB", "PROJECT", "STATE", "TASKS", "ROWS WRITTEN", "CREATED", "RANGES"}};
    for (const v1::Job& job : response.jobs()) {
      rows.push_back({job.job_id(), job.project(), v1::JobState_Name(job.state()),
                      absl::StrCat(job.tasks_succeeded(), "/", job.tasks_total()),
                      Count(job.rows_written()), When(job.created_time()), Ranges(job)});
    }
    PrintTable(rows, std::cout);
    *exit_code = 0;
  });
}

}  // namespace granary::cli
