// Historical retrieval end to end: `entity_rows` entity rows in a CSV file against 3 views of
// `rows` offline rows each, through `granary get-historical-features` (CSV in, the
// materializer's point-in-time join, CSV written), beside a hand-written point-in-time join of
// the same rows in SQL (psql, COPY to /dev/null) run in the same benchmark run.
//
//   tools/bench/run historical
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <random>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/test_stack.h"
#include "tools/bench/raw_tools.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

namespace reg = registry::v1;

constexpr int kViews = 3;
constexpr int kFeatures = 3;

struct Flags {
  std::string out = "bench-results/historical.json";
  std::string bin_dir;
  int entities = 100'000;
  int rows = 1'000'000;  // per view
  int entity_rows = 100'000;
  double target_seconds = 10;
  double target_ratio = 1.5;
};

reg::FeatureRepo Repo() {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name("bench");
  auto* entity = repo.add_entities();
  entity->set_name("item");
  entity->set_join_key("item_id");
  entity->set_value_type(types::v1::ValueType::INT64);
  auto* service = repo.add_feature_services();
  service->set_name("training");
  for (int v = 0; v < kViews; ++v) {
    auto* source = repo.add_data_sources();
    source->set_name(absl::StrCat("rows", v));
    source->mutable_postgres()->set_table(absl::StrCat("history", v));
    source->set_timestamp_field("event_timestamp");
    source->set_created_timestamp_column("created");
    auto* view = repo.add_feature_views();
    view->set_name(absl::StrCat("view", v));
    view->add_entities("item");
    view->set_batch_source(source->name());
    view->mutable_ttl()->set_seconds(6 * 3600);
    for (int f = 0; f < kFeatures; ++f) {
      auto* field = view->add_schema();
      field->set_name(absl::StrFormat("v%d_f%d", v, f));
      field->set_dtype(f == 0 ? types::v1::ValueType::INT64 : types::v1::ValueType::DOUBLE);
    }
    service->add_features()->set_feature_view(view->name());
  }
  return repo;
}

// Each view's table: `rows` rows over `entities` entities an hour apart from 2026-01-01, and
// the index a point-in-time join needs (keys, then time).
std::vector<std::string> FillSql(const Flags& flags) {
  std::vector<std::string> out;
  for (int v = 0; v < kViews; ++v) {
    out.push_back(absl::StrFormat(
        "CREATE TABLE history%d (item_id bigint, event_timestamp timestamptz, created "
        "timestamptz, v%d_f0 bigint, v%d_f1 double precision, v%d_f2 double precision);\n"
        "INSERT INTO history%d SELECT g %% %d, timestamptz '2026-01-01' + (g / %d) * interval "
        "'1 hour' + %d * interval '1 minute', timestamptz '2026-01-01' + (g / %d) * interval "
        "'1 hour' + interval '30 minutes', (random() * 1000)::bigint, random(), random() FROM "
        "generate_series(0, %d) g;\n"
        "CREATE INDEX ON history%d (item_id, event_timestamp);\nANALYZE history%d;",
        v, v, v, v, v, flags.entities, flags.entities, v * 7, flags.entities, flags.rows - 1, v,
        v));
  }
  return out;
}

// The same join written by hand: each view's newest row at or before the entity row's time,
// within the ttl, ties to the newest created. `key_order`: the entity rows probed in the order
// of their keys and times, as Granary does, rather than in their own order.
std::string HandWritten(bool key_order) {
  std::string select = "SELECT e.item_id, e.event_timestamp, e.label";
  std::string joins;
  for (int v = 0; v < kViews; ++v) {
    absl::StrAppend(&select,
                    absl::StrFormat(", j%d.v%d_f0, j%d.v%d_f1, j%d.v%d_f2", v, v, v, v, v, v));
    absl::StrAppend(
        &joins,
        absl::StrFormat(" LEFT JOIN LATERAL (SELECT v%d_f0, v%d_f1, v%d_f2 FROM history%d h "
                        "WHERE h.item_id = e.item_id AND h.event_timestamp <= e.event_timestamp "
                        "AND h.event_timestamp >= e.event_timestamp - interval '6 hours' ORDER BY "
                        "h.event_timestamp DESC, h.created DESC LIMIT 1) j%d ON true",
                        v, v, v, v, v));
  }
  const std::string from = key_order
                               ? "(SELECT * FROM entity_rows ORDER BY item_id, event_timestamp) e"
                               : "entity_rows e";
  return absl::StrCat(select, " FROM ", from, joins, " ORDER BY e.n");
}

absl::Status Run(const Flags& flags, Report& report) {
  std::cout << "filling " << kViews << " views of " << flags.rows << " rows...\n";
  ASSIGN_OR_RETURN(auto stack,
                   testing::TestStack::Start(
                       {.repo = Repo(), .offline_sql = FillSql(flags), .bin_dir = flags.bin_dir}));
  ASSIGN_OR_RETURN(
      testing::TestService * m,
      stack->Spawn("materializer", {.section = "task_threads: 0", .server = "log_level: warning"}));
  // The entity rows: a CSV file for the CLI, the same rows in a table for the hand-written SQL.
  const std::string csv = stack->dir() + "/entities.csv";
  {
    std::ofstream out(csv);
    out << "item_id,event_timestamp,label\n";
    std::mt19937 rng(1);
    const int hours = flags.rows / flags.entities;
    for (int i = 0; i < flags.entity_rows; ++i) {
      const absl::Time at = absl::FromCivil(absl::CivilSecond(2026, 1, 1), absl::UTCTimeZone()) +
                            absl::Seconds(rng() % (hours * 3600 + 7200));
      out << rng() % (flags.entities + flags.entities / 10) << ","
          << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at, absl::UTCTimeZone()) << "," << i % 2
          << "\n";
    }
  }
  const std::string psql =
      absl::StrCat("psql -v ON_ERROR_STOP=1 '", stack->offline_conninfo(), "'");
  RETURN_IF_ERROR(
      TimeShell(absl::StrCat(psql,
                             " -c 'CREATE TABLE entity_rows (n bigserial, item_id bigint, "
                             "event_timestamp timestamptz, label bigint)' -c \"\\copy "
                             "entity_rows (item_id, event_timestamp, label) FROM '",
                             csv, "' CSV HEADER\" -c 'ANALYZE entity_rows' >/dev/null"))
          .status());

  // The hand-written join once to warm PostgreSQL's cache for all (not counted), then
  // granary, then the hand-written join as a user would write it, then in key order with JIT
  // off (what Granary runs).
  std::cout << "hand-written SQL (warm-up), granary get-historical-features, hand-written SQL "
               "twice\n";
  auto hand_written = [&](bool key_order) {
    return absl::StrCat(psql, key_order ? " -c 'SET jit = off'" : "", " -c \"COPY (",
                        HandWritten(key_order), ") TO STDOUT\" >/dev/null");
  };
  RETURN_IF_ERROR(TimeShell(hand_written(false)).status());
  const std::string cli = flags.bin_dir + "/tools/cli/granary";
  const std::string train = stack->dir() + "/train.csv";
  ASSIGN_OR_RETURN(
      absl::Duration granary_took,
      TimeShell(absl::StrCat(cli, " get-historical-features --entities ", csv,
                             " --feature-service training --project bench --out ", train,
                             " --materializer ", m->address(), " 2>/dev/null")));
  ASSIGN_OR_RETURN(absl::Duration sql_took, TimeShell(hand_written(false)));
  ASSIGN_OR_RETURN(absl::Duration tuned_took, TimeShell(hand_written(true)));
  ASSIGN_OR_RETURN(auto lines, testing::Subprocess::Start({.argv = {"wc", "-l", train}}));
  RETURN_IF_ERROR(lines->Wait(absl::Seconds(30)).status());
  const double seconds = absl::ToDoubleSeconds(granary_took);
  const std::string name =
      absl::StrFormat("historical retrieval, %d entity rows x %d views of %d rows, CSV in and out",
                      flags.entity_rows, kViews, flags.rows);
  report.Add({.name = name + ", against a plain LATERAL join",
              .value = seconds,
              .unit = "s",
              .raw = absl::ToDoubleSeconds(sql_took),
              .raw_name = "hand-written LATERAL join per view in the entity rows' order, "
                          "PostgreSQL's defaults, COPY to /dev/null",
              .target = absl::StrFormat("< %.0f s", flags.target_seconds),
              .met = seconds < flags.target_seconds});
  const double tuned = absl::ToDoubleSeconds(tuned_took);
  report.Add({.name = name + ", against the same join as Granary's",
              .value = seconds,
              .unit = "s",
              .raw = tuned,
              .raw_name = "hand-written LATERAL join per view probing in key order, JIT off, "
                          "COPY to /dev/null (the SQL alone: no CSV, no client)",
              .target = absl::StrFormat("< %.1fx", flags.target_ratio),
              .met = seconds < flags.target_ratio * tuned});
  report.Note(absl::StrCat("training set: ", lines->Output()));
  report.Note(
      absl::StrFormat("%d cores shared by everything (PostgreSQL, the materializer, the CLI)",
                      static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))));
  return absl::OkStatus();
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) {
  granary::bench::Flags flags;
  std::string self = argv[0];
  flags.bin_dir = self.substr(0, self.rfind('/') + 1) + "../..";
  CLI::App app{"historical retrieval benchmark"};
  app.add_option("--out", flags.out);
  app.add_option("--bin_dir", flags.bin_dir, "where services/ and tools/cli/granary are");
  app.add_option("--entities", flags.entities);
  app.add_option("--rows", flags.rows, "offline rows per view");
  app.add_option("--entity_rows", flags.entity_rows);
  CLI11_PARSE(app, argc, argv);
  granary::base::SetLogLevel(granary::base::LogLevel::kWarning);
  granary::bench::Report report("historical");
  if (absl::Status s = granary::bench::Run(flags, report); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  report.Publish(flags.out, std::cout);
  // A missed target is a failed run (exit 3), so scripts and people cannot overlook it.
  return report.AllMet() ? 0 : 3;
}
