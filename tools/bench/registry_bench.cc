// The registry benchmark: apply of a repo with 1,000 feature views x 20 features, the no-op
// re-apply of the same, and the time from Apply returning to a registry_client holding the new
// version. Each figure is printed beside the raw backend's figure for the same work, measured
// in the same run on the same machine: COPY of the same object bytes into PostgreSQL (apply),
// a SELECT of the stored objects (re-apply), and a bare NATS publish -> receive (propagation).
//
//   tools/bench/run registry            (or: bazel run //tools/bench:registry_bench)
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "granary/registry/v1/objects.pb.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "postgresql/libpq-fe.h"

#include "libs/base/log.h"
#include "libs/bus/connection.h"
#include "libs/registry_client/registry_client.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "services/registry/registry_service.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

namespace v1 = registry::v1;

struct Flags {
  int views = 1000;
  int features = 20;
  int updates = 200;
  int repeats = 3;
  std::string out = "bench-results/registry.json";
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto value = [&](absl::string_view name) -> absl::string_view { return a.substr(name.size()); };
    if (absl::StartsWith(a, "--views=")) (void)absl::SimpleAtoi(value("--views="), &f.views);
    if (absl::StartsWith(a, "--features=")) {
      (void)absl::SimpleAtoi(value("--features="), &f.features);
    }
    if (absl::StartsWith(a, "--updates=")) {
      (void)absl::SimpleAtoi(value("--updates="), &f.updates);
    }
    if (absl::StartsWith(a, "--out=")) f.out = std::string(value("--out="));
    if (absl::StartsWith(a, "--repeats=")) {
      (void)absl::SimpleAtoi(value("--repeats="), &f.repeats);
    }
  }
  return f;
}

v1::FeatureRepo BigRepo(const std::string& project, int views, int features) {
  v1::FeatureRepo repo;
  repo.mutable_project()->set_name(project);
  auto* user = repo.add_entities();
  user->set_name("user");
  user->set_join_key("user_id");
  user->set_value_type(types::v1::ValueType::INT64);
  auto* source = repo.add_data_sources();
  source->set_name("events");
  source->mutable_postgres()->set_table("events");
  source->set_timestamp_field("event_timestamp");
  for (int v = 0; v < views; ++v) {
    auto* fv = repo.add_feature_views();
    fv->set_name(absl::StrFormat("view_%04d", v));
    fv->add_entities("user");
    fv->mutable_ttl()->set_seconds(86400);
    fv->set_batch_source("events");
    fv->set_description("A feature view of the benchmark repo.");
    (*fv->mutable_tags())["team"] = absl::StrCat("team_", v % 17);
    for (int f = 0; f < features; ++f) {
      auto* field = fv->add_schema();
      field->set_name(absl::StrFormat("feature_%02d", f));
      field->set_dtype(f % 2 ? types::v1::ValueType::FLOAT : types::v1::ValueType::INT64);
    }
  }
  return repo;
}

absl::StatusOr<v1::ApplyResponse> Apply(v1::RegistryService::Stub& stub,
                                        const v1::FeatureRepo& repo) {
  v1::ApplyRequest req;
  *req.mutable_repo() = repo;
  v1::ApplyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  grpc::Status s = stub.Apply(&ctx, req, &resp);
  if (!s.ok()) return absl::InternalError(s.error_message());
  return resp;
}

// libpq, for the raw figures: no Granary code in the way.
class RawPg {
 public:
  explicit RawPg(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~RawPg() { PQfinish(conn_); }
  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) std::cerr << "raw SQL failed: " << PQerrorMessage(conn_);
    PQclear(r);
    return ok;
  }
  // COPY text rows into a table.
  bool Copy(const std::string& table, const std::string& rows) {
    PGresult* r = PQexec(conn_, ("COPY " + table + " FROM STDIN").c_str());
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    ok = ok && PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) == 1 &&
         PQputCopyEnd(conn_, nullptr) == 1;
    r = PQgetResult(conn_);
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }

 private:
  PGconn* conn_;
};

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

int Run(const Flags& flags) {
  base::SetLogLevel(base::LogLevel::kWarning);
  Report report("registry");
  auto pg = testing::PostgresServer::Start();
  auto nats = testing::NatsServer::Start();
  if (!pg.ok() || !nats.ok()) {
    std::cerr << "cannot start backends: " << pg.status() << " " << nats.status() << "\n";
    return 1;
  }
  if (!(*pg)->CreateDatabase("granary").ok()) return 1;
  auto registry = server::StartInProcess(
      registry::Definition(),
      absl::StrCat("server: {log_level: warning}\npostgres: {address: 127.0.0.1:", (*pg)->port(),
                   ", user: postgres, database: granary, sslmode: disable}\n", "nats: {url: '",
                   (*nats)->url(), "'}\n"));
  if (!registry.ok()) {
    std::cerr << registry.status() << "\n";
    return 1;
  }
  std::string address = absl::StrCat("127.0.0.1:", (*registry)->grpc_port());
  auto stub = v1::RegistryService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  std::string label = absl::StrCat(flags.views, " views x ", flags.features, " features");

  // Apply to a new project each time (the median counts), then re-apply the last repo.
  std::vector<absl::Duration> applies, reapplies;
  v1::FeatureRepo repo;
  absl::StatusOr<v1::ApplyResponse> first;
  absl::Time start;
  for (int r = 0; r < flags.repeats; ++r) {
    repo = BigRepo(absl::StrCat("bench_", r), flags.views, flags.features);
    start = absl::Now();
    first = Apply(*stub, repo);
    applies.push_back(absl::Now() - start);
    if (!first.ok() || !first->changed()) {
      std::cerr << "apply failed: " << first.status() << "\n";
      return 1;
    }
  }
  const std::string project = repo.project().name();
  for (int r = 0; r < flags.repeats; ++r) {
    start = absl::Now();
    absl::StatusOr<v1::ApplyResponse> again = Apply(*stub, repo);
    reapplies.push_back(absl::Now() - start);
    if (!again.ok() || again->changed()) {
      std::cerr << "re-apply was not a no-op: " << again.status() << "\n";
      return 1;
    }
  }
  absl::Duration apply = Percentile(applies, 50), reapply = Percentile(reapplies, 50);

  // Raw: COPY the same object bytes in one transaction; SELECT the stored objects back.
  RawPg raw((*pg)->ConnInfo("granary"));
  std::string rows;
  for (const auto& fv : repo.feature_views()) {
    absl::StrAppend(&rows, project, "\t4\t", fv.name(), "\t\\\\x", Hex(fv.SerializeAsString()),
                    "\n");
  }
  raw.Exec("CREATE TABLE raw_objects (project text, kind smallint, name text, spec bytea)");
  start = absl::Now();
  bool copied = raw.Exec("BEGIN") && raw.Copy("raw_objects", rows) && raw.Exec("COMMIT");
  absl::Duration raw_copy = absl::Now() - start;
  start = absl::Now();
  bool selected = raw.Exec(absl::StrCat(
      "SELECT kind, name, spec FROM registry.objects WHERE project = '", project, "'"));
  absl::Duration raw_select = absl::Now() - start;
  if (!copied || !selected) return 1;

  report.Add({.name = "apply (median): " + label,
              .value = Ms(apply),
              .unit = "ms",
              .raw = Ms(raw_copy),
              .raw_name = "COPY of the same objects' bytes in one transaction",
              .target = "< 2000 ms",
              .met = apply < absl::Seconds(2)});
  report.Add({.name = "re-apply (no-op, median): " + label,
              .value = Ms(reapply),
              .unit = "ms",
              .raw = Ms(raw_select),
              .raw_name = "SELECT of the stored objects",
              .target = "< 500 ms",
              .met = reapply < absl::Milliseconds(500)});

  // Propagation: Apply returns -> a registry_client holds the new version.
  auto nats_conn = bus::Connection::Open({.url = (*nats)->url()});
  if (!nats_conn.ok() || !(*nats_conn)->WaitConnected(absl::Seconds(10))) return 1;
  registry_client::RegistryClient client({.address = address, .poll_interval = absl::Hours(1)},
                                         *nats_conn);
  if (!client.Start().ok()) return 1;
  client.Watch(project);
  if (!client.WaitForVersion(project, first->version(), absl::Seconds(30))) return 1;
  // Two clocks: from Apply returning (the figure asked for) and from the commit itself (the
  // announcement can beat Apply's response, which makes the first look better than it is).
  std::vector<absl::Duration> propagation, from_commit;
  for (int i = 0; i < flags.updates; ++i) {
    repo.mutable_feature_views(i % flags.views)->set_description(absl::StrCat("update ", i));
    absl::StatusOr<v1::ApplyResponse> applied = Apply(*stub, repo);
    absl::Time returned = absl::Now();
    if (!applied.ok() || !client.WaitForVersion(project, applied->version(), absl::Seconds(10))) {
      std::cerr << "update " << i << " did not propagate\n";
      return 1;
    }
    absl::Time held = absl::Now();
    propagation.push_back(held - returned);
    from_commit.push_back(held - client.Get(project)->committed_time());
  }

  // Raw: a core NATS message from publisher to subscriber, the same path a change event takes.
  std::vector<absl::Duration> raw_nats;
  {
    absl::Mutex mu;
    absl::Time sent;
    absl::Notification* got = nullptr;
    absl::Duration last;
    auto sub = (*nats_conn)->Subscribe("bench.raw", [&](absl::string_view, absl::string_view) {
      absl::MutexLock lock(&mu);
      last = absl::Now() - sent;
      got->Notify();
    });
    if (!sub.ok() || !(*nats_conn)->Ping().ok()) return 1;
    for (int i = 0; i < flags.updates; ++i) {
      absl::Notification n;
      {
        absl::MutexLock lock(&mu);
        got = &n;
        sent = absl::Now();
      }
      if (!(*nats_conn)->Publish("bench.raw", "x").ok()) return 1;
      if (!n.WaitForNotificationWithTimeout(absl::Seconds(5))) return 1;
      absl::MutexLock lock(&mu);
      raw_nats.push_back(last);
    }
  }
  report.Add({.name = "propagation p50",
              .value = Ms(Percentile(propagation, 50)),
              .unit = "ms",
              .raw = Ms(Percentile(raw_nats, 50)),
              .raw_name = "core NATS publish -> receive"});
  report.Add({.name = "propagation p99",
              .value = Ms(Percentile(propagation, 99)),
              .unit = "ms",
              .raw = Ms(Percentile(raw_nats, 99)),
              .raw_name = "core NATS publish -> receive",
              .target = "< 100 ms",
              .met = Percentile(propagation, 99) < absl::Milliseconds(100)});
  report.Add({.name = "propagation from the commit p99",
              .value = Ms(Percentile(from_commit, 99)),
              .unit = "ms",
              .raw = Ms(Percentile(raw_nats, 99)),
              .raw_name = "core NATS publish -> receive"});
  report.Note(absl::StrCat("apply over ", flags.repeats, " new projects: min ",
                           Ms(*std::min_element(applies.begin(), applies.end())), " ms, max ",
                           Ms(*std::max_element(applies.begin(), applies.end())), " ms"));
  report.Note(absl::StrCat("snapshot of ", label, ": ", repo.ByteSizeLong() / 1024, " KiB; ",
                           flags.updates, " updates measured; ", sysconf(_SC_NPROCESSORS_ONLN),
                           " cores shared by everything"));
  report.Print(std::cout);
  absl::Status written = report.WriteJson(flags.out);
  std::cout << (written.ok() ? "results: " + flags.out : std::string(written.message())) << "\n";
  client.Stop();
  return 0;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) {
  return granary::bench::Run(granary::bench::ParseFlags(argc, argv));
}
