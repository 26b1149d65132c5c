// Materialization throughput: a view of `rows` offline rows x 10 features over `entities`
// entities, materialized by 1 and then 2 worker processes (Redis emptied in between, so both
// write everything), timed from the job's creation to its end as the job store records them.
// Beside it, in the same run: COPY of the same rows to /dev/null (psql) and redis-benchmark's
// pipelined HSET of the same width, and each worker's peak resident memory.
//
//   tools/bench/run materialize
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/log.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/test_stack.h"
#include "tools/bench/proc_memory.h"
#include "tools/bench/raw_tools.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

namespace v1 = materialization::v1;
namespace reg = registry::v1;

constexpr int kFeatures = 10;

struct Flags {
  std::string out = "bench-results/materialize.json";
  std::string bin_dir;
  int entities = 100'000;
  int rows = 1'000'000;
  int shards = 8;
  double target = 150'000;
};

reg::FeatureRepo Repo() {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name("bench");
  auto* entity = repo.add_entities();
  entity->set_name("item");
  entity->set_join_key("item_id");
  entity->set_value_type(types::v1::ValueType::INT64);
  auto* source = repo.add_data_sources();
  source->set_name("rows");
  source->mutable_postgres()->set_table("bench_rows");
  source->set_timestamp_field("event_timestamp");
  source->set_created_timestamp_column("created");
  auto* view = repo.add_feature_views();
  view->set_name("bench_stats");
  view->add_entities("item");
  view->set_batch_source("rows");
  for (int f = 0; f < kFeatures; ++f) {
    auto* field = view->add_schema();
    field->set_name(absl::StrFormat("f%02d", f));
    field->set_dtype(f % 2 == 0 ? types::v1::ValueType::DOUBLE : types::v1::ValueType::INT64);
  }
  return repo;
}

// The rows, in PostgreSQL: `rows` rows spread over `entities` entities an hour apart.
std::string FillSql(const Flags& flags) {
  std::string columns, values;
  for (int f = 0; f < kFeatures; ++f) {
    absl::StrAppend(&columns,
                    absl::StrFormat(", f%02d %s", f, f % 2 == 0 ? "double precision" : "bigint"));
    absl::StrAppend(&values, f % 2 == 0 ? absl::StrFormat(", random() * %d", f + 1)
                                        : absl::StrFormat(", (random() * 1000)::bigint + %d", f));
  }
  return absl::StrCat(
      "CREATE TABLE bench_rows (item_id bigint, event_timestamp timestamptz, created "
      "timestamptz",
      columns, ");\n", "INSERT INTO bench_rows SELECT g % ", flags.entities,
      ", timestamptz '2026-01-01' + (g / ", flags.entities,
      ") * interval '1 hour', timestamptz '2026-01-01' + (g / ", flags.entities,
      ") * interval '1 hour' + interval '5 minutes'", values, " FROM generate_series(0, ",
      flags.rows - 1, ") g;\nANALYZE bench_rows;");
}

struct JobRun {
  v1::Job job;
  absl::Duration took;
};

absl::StatusOr<JobRun> Materialize(testing::TestService& m, const Flags& flags) {
  auto stub = v1::MaterializationService::NewStub(m.channel());
  v1::MaterializeRequest request;
  request.set_project("bench");
  *request.mutable_start_time() = base::ToProtoTime(absl::FromUnixSeconds(0));
  *request.mutable_end_time() = base::ToProtoTime(absl::FromUnixSeconds(4'000'000'000));
  request.set_shards(flags.shards);
  JobRun run;
  {
    grpc::ClientContext context;
    grpc::Status status = stub->Materialize(&context, request, &run.job);
    if (!status.ok()) return base::FromGrpcStatus(status);
  }
  v1::WatchJobRequest watch;
  watch.set_job_id(run.job.job_id());
  grpc::ClientContext context;
  auto reader = stub->WatchJob(&context, watch);
  while (reader->Read(&run.job)) {
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return base::FromGrpcStatus(status);
  if (run.job.state() != v1::SUCCEEDED) {
    return absl::InternalError(
        absl::StrCat("the job ended ", v1::JobState_Name(run.job.state()), ": ", run.job.error()));
  }
  run.took =
      base::FromProtoTime(run.job.finished_time()) - base::FromProtoTime(run.job.created_time());
  return run;
}

absl::Status Run(const Flags& flags, Report& report) {
  std::cout << "filling " << flags.rows << " rows x " << kFeatures << " features over "
            << flags.entities << " entities...\n";
  ASSIGN_OR_RETURN(
      auto stack, testing::TestStack::Start(
                      {.repo = Repo(), .offline_sql = {FillSql(flags)}, .bin_dir = flags.bin_dir}));
  const int redis_port = stack->redis().port();

  std::cout << "raw: COPY of the rows to /dev/null, redis-benchmark HSET of the same width\n";
  ASSIGN_OR_RETURN(absl::Duration copy_took,
                   TimeShell(absl::StrCat("psql '", stack->offline_conninfo(),
                                          "' -c 'COPY (SELECT * FROM bench_rows) TO STDOUT' "
                                          ">/dev/null")));
  const double copy_rps = flags.rows / absl::ToDoubleSeconds(copy_took);
  std::vector<std::string> hset = {
      "-c", "4",   "-n",   "200000",          "-r", absl::StrCat(flags.entities),
      "-P", "100", "HSET", "raw:__rand_int__"};
  for (int f = 0; f < kFeatures + 2; ++f) {  // the features, _ts and _created
    hset.push_back(absl::StrFormat("f%02d", f));
    hset.push_back("12345678");
  }
  ASSIGN_OR_RETURN(RawFigures redis, RunRedisBenchmark(redis_port, hset));
  const double raw = std::min(copy_rps, redis.rps);
  report.Note(absl::StrFormat(
      "raw: COPY (SELECT * FROM bench_rows) TO STDOUT >/dev/null: %.0f rows/s; redis-benchmark "
      "HSET of %d fields, 4 clients, 100 pipelined: %.0f rows/s; ratios are to the slower",
      copy_rps, kFeatures + 2, redis.rps));

  std::vector<testing::TestService*> workers;
  for (int n = 1; n <= 2; ++n) {
    ASSIGN_OR_RETURN(testing::TestService * w,
                     stack->Spawn("materializer",
                                  {.section = "task_threads: 1", .server = "log_level: warning"}));
    workers.push_back(w);
    for (testing::TestService* each : workers) ResetPeakResident(each->pid());
    // Empty, so that every run writes every entity (guarded writes skip what is there).
    ASSIGN_OR_RETURN(auto flush,
                     testing::Subprocess::Start(
                         {.argv = {"redis-cli", "-p", absl::StrCat(redis_port), "FLUSHALL"}}));
    RETURN_IF_ERROR(flush->Wait(absl::Seconds(30)).status());
    std::cout << "materializing with " << n << " worker(s)...\n";
    ASSIGN_OR_RETURN(JobRun run, Materialize(*workers[0], flags));
    const double rps = flags.rows / absl::ToDoubleSeconds(run.took);
    report.Add({.name = absl::StrFormat("materialize %d offline rows x %d features, %d worker%s "
                                        "(offline rows read per second)",
                                        flags.rows, kFeatures, n, n == 1 ? "" : "s"),
                .value = rps,
                .unit = "rows/s",
                .raw = raw,
                .raw_name = "min(COPY to /dev/null, redis-benchmark HSET)",
                .target = n == 2 ? absl::StrFormat(">= %.0f rows/s", flags.target) : "",
                .met = n != 2 || rps >= flags.target});
    std::string memory;
    for (size_t i = 0; i < workers.size(); ++i) {
      absl::StrAppend(
          &memory, i == 0 ? "" : ", ",
          absl::StrFormat("%.1f MiB", PeakResidentBytes(workers[i]->pid()) / 1048576.0));
    }
    report.Note(absl::StrFormat(
        "%d worker(s): %s in %.2f s (%d tasks): the %lld latest rows (of %d) written to Redis, "
        "%.0f of them per second; peak resident memory per worker: %s",
        n, run.job.job_id(), absl::ToDoubleSeconds(run.took), run.job.tasks_total(),
        static_cast<long long>(run.job.rows_written()), flags.rows,
        run.job.rows_written() / absl::ToDoubleSeconds(run.took), memory));
  }
  report.Note(absl::StrFormat("%d cores shared by everything (PostgreSQL, Redis, workers)",
                              static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))));
  return absl::OkStatus();
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) {
  granary::bench::Flags flags;
  std::string self = argv[0];
  flags.bin_dir = self.substr(0, self.rfind('/') + 1) + "../..";
  CLI::App app{"materialization benchmark"};
  app.add_option("--out", flags.out);
  app.add_option("--bin_dir", flags.bin_dir, "where services/materializer/materializer is");
  app.add_option("--entities", flags.entities);
  app.add_option("--rows", flags.rows, "offline rows in all");
  app.add_option("--shards", flags.shards, "tasks of the job");
  CLI11_PARSE(app, argc, argv);
  granary::base::SetLogLevel(granary::base::LogLevel::kWarning);
  granary::bench::Report report("materialize");
  if (absl::Status s = granary::bench::Run(flags, report); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  report.Publish(flags.out, std::cout);
  // A missed target is a failed run (exit 3), so scripts and people cannot overlook it.
  return report.AllMet() ? 0 : 3;
}
