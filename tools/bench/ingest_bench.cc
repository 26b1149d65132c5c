// The ingestion benchmark: rows of 10 DOUBLE features pushed over PushStream to the ingestion
// service (its own process), stored in JetStream, applied to Redis by two materializer replicas
// (their own processes), all on the shared test stack, with every guarantee on (batches kept
// until both writers acknowledged them, a byte bound, whole batches, created-time tie-breaks).
// Run twice: on one nats-server, and on a 3-node NATS cluster whose streams keep 3 replicas
// (an ack means a quorum stored the batch). Beside each figure, the raw backend measured in the
// same run:
//
//   sustained throughput, acked and in Redis   >= 50,000 rows/s, batches of 100, many in
//                                              flight; beside JetStream async publish of the
//                                              same bytes (to the same single node or cluster,
//                                              same replicas) and redis-benchmark pipelined HSET
//   push -> servable at 1,000 rows/s          p99 <= 10 ms, from sending a batch to its last
//                                              row's write in Redis (keyspace notification);
//                                              beside JetStream's publish-ack round trip
//   ingestion's peak resident memory           with 64 producers pushing batches of 1,000 rows
//                                              at once into an ingestion process whose budget
//                                              (ingestion.max_bytes_in_flight) is 32 MiB, far
//                                              less than they send: refused sends are made
//                                              again after the hint; beside one producer's
//
//   tools/bench/run ingest
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/bus/jetstream.h"
#include "libs/keys/entity_key.h"
#include "libs/testing/test_stack.h"
#include "tools/bench/cpu_time.h"
#include "tools/bench/keyspace_watch.h"
#include "tools/bench/proc_memory.h"
#include "tools/bench/push_driver.h"
#include "tools/bench/raw_tools.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

constexpr char kProject[] = "bench";
constexpr char kView[] = "pushed";
constexpr char kSource[] = "pushed_source";
constexpr int kFeatures = 10;

struct Flags {
  std::string out = "bench-results/ingest.json";
  std::string bin_dir;
  int workers = 2;
  int batch_rows = 100;
  int batches = 6000;  // 600,000 rows
  int in_flight = 64;
  int entities = 100'000;
  double fresh_rows_per_second = 1000;
  int fresh_batch_rows = 10;
  double fresh_seconds = 10;
  int producers = 64;
  int producer_batches = 20;
  int producer_batch_rows = 1000;
  int memory_budget_mib = 32;
  int grpc_memory_mib = 64;
  int max_streams = 64;
  bool single = true;
  bool cluster = true;
  bool throughput = true;  // off: the single run measures memory only
};

registry::v1::FeatureRepo IngestRepo() {
  registry::v1::FeatureRepo repo;
  repo.mutable_project()->set_name(kProject);
  auto* entity = repo.add_entities();
  entity->set_name("device");
  entity->set_join_key("device_id");
  entity->set_value_type(types::v1::ValueType::INT64);
  auto* table = repo.add_data_sources();
  table->set_name("pushed_table");
  table->mutable_postgres()->set_table("pushed_rows");
  table->set_timestamp_field("event_timestamp");
  auto* push = repo.add_data_sources();
  push->set_name(kSource);
  push->mutable_push()->set_batch_source("pushed_table");
  auto* view = repo.add_feature_views();
  view->set_name(kView);
  view->add_entities("device");
  view->set_batch_source("pushed_table");
  view->set_stream_source(kSource);
  for (int i = 0; i < kFeatures; ++i) {
    auto* field = view->add_schema();
    field->set_name(absl::StrFormat("f%02d", i));
    field->set_dtype(types::v1::ValueType::DOUBLE);
  }
  return repo;
}

// Batch `b` of `rows` rows: entities (first + b * rows + r) mod `entities`, and an event time
// that grows with b so every row is newer than what it replaces.
ingestion::v1::PushRequest Batch(int b, int rows, int64_t first, int entities) {
  ingestion::v1::PushRequest req;
  req.set_push_source_name(kSource);
  req.set_to(ingestion::v1::ONLINE);
  auto& columns = *req.mutable_columns();
  auto& ids = columns["device_id"];
  auto& ts = columns["event_timestamp"];
  std::vector<types::v1::RepeatedValue*> features;
  for (int f = 0; f < kFeatures; ++f) features.push_back(&columns[absl::StrFormat("f%02d", f)]);
  const int64_t event = absl::ToUnixSeconds(absl::Now()) - 3600 + b;
  for (int r = 0; r < rows; ++r) {
    ids.add_val()->set_int64_val(first + (int64_t{b} * rows + r) % entities);
    ts.add_val()->set_unix_timestamp_val(event);
    for (int f = 0; f < kFeatures; ++f) features[f]->add_val()->set_double_val(b + r * 0.001 + f);
  }
  return req;
}

std::string KeyOf(int64_t id) {
  types::v1::Value v;
  v.set_int64_val(id);
  return *keys::RedisKey({{"device_id", v}}, kProject);
}

// The bytes JetStream carries for one batch of `rows` (what ingestion makes of Batch).
events::v1::PushBatch Sample(int rows, int entities) {
  events::v1::PushBatch sample;
  ingestion::v1::PushRequest req = Batch(0, rows, 0, entities);
  sample.set_project(kProject);
  sample.set_feature_view(kView);
  sample.set_batch_id("0123456789-0");
  sample.add_join_keys("device_id");
  for (int r = 0; r < rows; ++r) {
    auto* row = sample.add_rows();
    *row->add_join_values() = req.columns().at("device_id").val(r);
    row->mutable_event_time()->set_seconds(1700000000);
    row->mutable_created_time()->set_seconds(1700000000);
    row->mutable_created_time()->set_nanos(123456789);
    for (int f = 0; f < kFeatures; ++f) {
      *row->add_features() = req.columns().at(absl::StrFormat("f%02d", f)).val(r);
    }
  }
  return sample;
}

// JetStream alone, to the stack's NATS and with its replicas: async publishes of `count`
// messages of `size` bytes, all acked (messages/s); then one at a time, for the latency floor
// of a durable publish.
absl::StatusOr<double> RawJetStream(testing::TestStack& stack, int replicas, size_t size, int count,
                                    std::vector<absl::Duration>* round_trips) {
  bus::NatsOptions o;
  o.url = stack.nats_url();
  ASSIGN_OR_RETURN(auto conn, bus::Connection::Open(o));
  if (!conn->WaitConnected(absl::Seconds(5))) return absl::UnavailableError("nats");
  ASSIGN_OR_RETURN(auto js, bus::JetStream::Create(conn));
  RETURN_IF_ERROR(
      js->EnsureStream({.name = "RAW_BENCH", .subjects = {"raw.bench"}, .replicas = replicas})
          .status());
  const std::string payload(size, 'x');
  absl::Mutex mu;
  int left = count;
  int outstanding = 0;
  absl::Status failed;
  absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    {
      // At most kWindow unacknowledged, as the client's own pending limit wants.
      constexpr int kWindow = 1024;
      absl::MutexLock lock(&mu);
      auto room = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return outstanding < kWindow; };
      mu.Await(absl::Condition(&room));
      ++outstanding;
    }
    js->PublishAsync("raw.bench", payload, absl::StrCat("raw-", i),
                     [&](absl::StatusOr<bus::PublishAck> ack) {
                       absl::MutexLock lock(&mu);
                       if (!ack.ok()) failed = ack.status();
                       --left;
                       --outstanding;
                     });
  }
  {
    absl::MutexLock lock(&mu);
    auto all = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return left == 0; };
    mu.Await(absl::Condition(&all));
  }
  double per_second = count / absl::ToDoubleSeconds(absl::Now() - start);
  RETURN_IF_ERROR(failed);
  for (int i = 0; i < 1000; ++i) {
    absl::Time t = absl::Now();
    RETURN_IF_ERROR(js->Publish("raw.bench", payload.substr(0, size / 10), "").status());
    round_trips->push_back(absl::Now() - t);
  }
  return per_second;
}

// CPU time (user + system) of each part of the stack: where the two cores went.
struct StackCpu {
  absl::Duration ingestion, workers, nats, redis, generator;

  StackCpu operator-(const StackCpu& o) const {
    return {ingestion - o.ingestion, workers - o.workers, nats - o.nats, redis - o.redis,
            generator - o.generator};
  }
  // Microseconds per unit of work, one field each.
  std::string PerUnit(double units, const std::string& unit) const {
    auto us = [&](absl::Duration d) { return absl::ToDoubleMicroseconds(d) / units; };
    return absl::StrFormat(
        "CPU per %s: ingestion %.0f us, materializers %.0f us, nats-server %.0f us, Redis %.0f "
        "us, load generator %.0f us",
        unit, us(ingestion), us(workers), us(nats), us(redis), us(generator));
  }
};

struct Stack {
  std::unique_ptr<testing::TestStack> stack;
  testing::TestService* ingestion = nullptr;
  std::vector<testing::TestService*> workers;

  StackCpu Cpu() {
    StackCpu c;
    c.ingestion = CpuTime(ingestion->pid());
    for (const auto* w : workers) c.workers += CpuTime(w->pid());
    if (testing::NatsServer* one = stack->nats()) c.nats = CpuTime(one->pid());
    if (testing::NatsCluster* cluster = stack->nats_cluster()) {
      for (int n = 0; n < cluster->size(); ++n) c.nats += CpuTime(cluster->pid(n));
    }
    c.redis = CpuTime(stack->redis().pid());
    c.generator = CpuTime();
    return c;
  }

  double RowsWrittenOnline() const {
    double sum = 0;
    for (const auto* w : workers) {
      sum += w->Metric("granary_materializer_rows_written_total{consumer=\"online-writer\"}");
    }
    return sum;
  }
  // When the writers' counters reach `rows` (InfinitePast if not within three minutes).
  absl::Time WaitWritten(int64_t rows) const {
    for (absl::Time give_up = absl::Now() + absl::Minutes(3); absl::Now() < give_up;) {
      if (RowsWrittenOnline() >= static_cast<double>(rows)) return absl::Now();
      absl::SleepFor(absl::Milliseconds(20));  // polling the writers' counters, bounded
    }
    std::cerr << "the writers reported " << RowsWrittenOnline() << " of " << rows
              << " rows written after three minutes\n";
    return absl::InfinitePast();
  }
};

absl::StatusOr<Stack> StartStack(const Flags& flags, int nats_nodes) {
  Stack s;
  ASSIGN_OR_RETURN(s.stack,
                   testing::TestStack::Start({.repo = IngestRepo(),
                                              .nats_nodes = nats_nodes,
                                              // Keyspace events: the benchmark sees rows land.
                                              .redis_config = {"notify-keyspace-events Kh"},
                                              .bin_dir = flags.bin_dir}));
  ASSIGN_OR_RETURN(s.ingestion, s.stack->Spawn("ingestion", {.section = "max_in_flight: 1024",
                                                             .server = "log_level: warning"}));
  for (int i = 0; i < flags.workers; ++i) {
    ASSIGN_OR_RETURN(testing::TestService * w,
                     s.stack->Spawn("materializer", {.server = "log_level: warning"}));
    s.workers.push_back(w);
  }
  return s;
}

// FAILED_PRECONDITION unless GRANARY_PUSH keeps `replicas` copies: the figures of the
// cluster run are only what they say when every acknowledged batch was on a quorum.
absl::Status CheckPushReplicas(testing::TestStack& stack, int replicas) {
  bus::NatsOptions o;
  o.url = stack.nats_url();
  ASSIGN_OR_RETURN(auto conn, bus::Connection::Open(o));
  if (!conn->WaitConnected(absl::Seconds(5))) return absl::UnavailableError("nats");
  ASSIGN_OR_RETURN(auto js, bus::JetStream::Create(conn));
  ASSIGN_OR_RETURN(bus::StreamState push, js->GetStreamState("GRANARY_PUSH"));
  if (push.replicas != replicas) {
    return absl::FailedPreconditionError(
        absl::StrCat("GRANARY_PUSH keeps ", push.replicas, " replicas, not ", replicas));
  }
  return absl::OkStatus();
}

// Throughput, freshness and the raw JetStream floor on one stack; `label` names the rows.
absl::Status Measure(const Flags& flags, Stack& s, int replicas, const std::string& label,
                     Report& report, double* raw_js_out) {
  PushDriver driver(s.ingestion->address(), flags.in_flight);
  std::cout << label << ": throughput\n";
  const StackCpu cpu_start = s.Cpu();
  ASSIGN_OR_RETURN(PushRun run,
                   driver.Run([&](int b) { return Batch(b, flags.batch_rows, 0, flags.entities); },
                              flags.batches, 0));
  RETURN_IF_ERROR(CheckPushReplicas(*s.stack, replicas));
  absl::Time written = s.WaitWritten(run.rows);
  const StackCpu throughput_cpu = s.Cpu() - cpu_start;
  const double acked_rps = run.rows / absl::ToDoubleSeconds(run.end - run.start);
  const double e2e_rps =
      written == absl::InfinitePast() ? 0 : run.rows / absl::ToDoubleSeconds(written - run.start);

  std::cout << label << ": freshness\n";
  KeyspaceWatch watch(s.stack->redis().host(), s.stack->redis().port());
  RETURN_IF_ERROR(watch.Start());
  const int fresh_batches =
      static_cast<int>(flags.fresh_seconds * flags.fresh_rows_per_second / flags.fresh_batch_rows);
  const int64_t first = 10'000'000;  // keys no other run touched: each row is one new write
  const StackCpu fresh_start = s.Cpu();
  absl::StatusOr<PushRun> fresh =
      driver.Run([&](int b) { return Batch(b, flags.fresh_batch_rows, first, 1 << 30); },
                 fresh_batches, flags.fresh_rows_per_second / flags.fresh_batch_rows);
  // Acked is not yet written: wait for the writers before closing the watch.
  s.WaitWritten(run.rows + (fresh.ok() ? fresh->rows : 0));
  const StackCpu fresh_cpu = s.Cpu() - fresh_start;
  watch.Stop();
  RETURN_IF_ERROR(fresh.status());
  std::vector<absl::Duration> servable;
  int missing = 0;
  for (int b = 0; b < fresh_batches; ++b) {
    absl::Time last = absl::InfinitePast();
    for (int r = 0; r < flags.fresh_batch_rows; ++r) {
      last =
          std::max(last, watch.FirstWrite(KeyOf(first + int64_t{b} * flags.fresh_batch_rows + r)));
    }
    if (last == absl::InfinitePast()) {
      ++missing;
    } else {
      servable.push_back(last - fresh->sent[b]);
    }
  }

  std::cout << label << ": raw JetStream\n";
  const events::v1::PushBatch sample = Sample(flags.batch_rows, flags.entities);
  std::vector<absl::Duration> js_round_trips;
  ASSIGN_OR_RETURN(double raw_js,
                   RawJetStream(*s.stack, replicas, sample.ByteSizeLong(), 20000, &js_round_trips));
  *raw_js_out = raw_js;
  const double raw_js_rows = raw_js * flags.batch_rows;
  report.Add({.name = absl::StrCat(label, ": throughput, acked and in Redis"),
              .value = e2e_rps,
              .unit = "rows/s",
              .raw = raw_js_rows,
              .raw_name = absl::StrFormat("JetStream async publish, %d-byte messages x %d rows, "
                                          "%d replica(s)",
                                          sample.ByteSizeLong(), flags.batch_rows, replicas),
              .target = ">= 50000 rows/s",
              .met = e2e_rps >= 50000});
  const double p99 = Ms(Percentile(servable, 99));
  report.Add({.name = absl::StrCat(label, ": push -> servable at 1,000 rows/s, p99"),
              .value = p99,
              .unit = "ms",
              .raw = Ms(Percentile(js_round_trips, 99)),
              .raw_name = "JetStream publish -> ack, one at a time, p99",
              .target = "<= 10 ms",
              .met = p99 <= 10 && missing == 0});
  report.Note(absl::StrFormat(
      "%s: %d batches of %d rows, %d in flight, %d workers; acked %.0f rows/s, all in Redis "
      "after %.2f s; freshness p50 %.3f ms, p99.9 %.3f ms, rows never seen %d; raw JetStream "
      "%.0f msgs/s, publish->ack p50 %.3f ms",
      label, flags.batches, flags.batch_rows, flags.in_flight, flags.workers, acked_rps,
      absl::ToDoubleSeconds(written - run.start), Ms(Percentile(servable, 50)),
      Ms(Percentile(servable, 99.9)), missing, raw_js, Ms(Percentile(js_round_trips, 50))));
  report.Note(absl::StrCat(
      label, ", throughput: ",
      throughput_cpu.PerUnit(flags.batches, absl::StrCat(flags.batch_rows, "-row batch"))));
  report.Note(absl::StrCat(
      label, ", freshness: ",
      fresh_cpu.PerUnit(fresh_batches, absl::StrCat(flags.fresh_batch_rows, "-row batch"))));
  return absl::OkStatus();
}

// What `producers` PushStreams pushing at once did to `ingestion`.
struct MemoryRun {
  int64_t peak_resident = 0;
  int64_t rows = 0;
  int64_t refused = 0;      // sends answered RESOURCE_EXHAUSTED (the budget), made again
  int64_t streams_cut = 0;  // streams gRPC's quota ended, reopened and their batches resent
};

absl::StatusOr<MemoryRun> PeakUnderProducers(const Flags& flags, testing::TestService& ingestion,
                                             int producers) {
  const pid_t pid = ingestion.pid();
  if (!ResetPeakResident(pid)) return absl::FailedPreconditionError("cannot reset the peak RSS");
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<PushRun>> runs(producers, absl::UnknownError("not run"));
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      PushDriver driver(ingestion.address(), 16);
      runs[p] = driver.Run(
          [&](int b) {
            return Batch(b, flags.producer_batch_rows, int64_t{p} * 1'000'000, 1'000'000);
          },
          flags.producer_batches, 0);
    });
  }
  for (auto& t : threads) t.join();
  MemoryRun out;
  for (const absl::StatusOr<PushRun>& run : runs) {
    RETURN_IF_ERROR(run.status());
    out.rows += run->rows;
    out.refused += run->refused;
    out.streams_cut += run->streams_cut;
  }
  out.peak_resident = PeakResidentBytes(pid);
  return out;
}

// Throughput, freshness, raw backends and memory on one nats-server.
absl::Status RunSingle(const Flags& flags, Report& report) {
  std::cout << "starting the stack on one nats-server (ingestion and " << flags.workers
            << " materializers)...\n";
  ASSIGN_OR_RETURN(Stack single, StartStack(flags, 1));
  double raw_js = 0;
  if (flags.throughput) {
    RETURN_IF_ERROR(Measure(flags, single, 1, "1 nats-server", report, &raw_js));
  }

  std::cout << "1 nats-server: redis-benchmark HSET\n";
  std::vector<std::string> hset = {"-c",   "4",
                                   "-n",   "200000",
                                   "-r",   absl::StrCat(flags.entities),
                                   "-P",   "100",
                                   "HSET", "rawrow:__rand_int__"};
  for (int f = 0; f <= kFeatures + 1; ++f) {  // the features, _ts and _created
    hset.push_back(absl::StrFormat("f%02d", f));
    hset.push_back("12345678");
  }
  ASSIGN_OR_RETURN(RawFigures raw_redis, RunRedisBenchmark(single.stack->redis().port(), hset));
  report.Note(
      absl::StrFormat("raw Redis: redis-benchmark HSET of %d fields, 4 clients, 100 "
                      "pipelined: %.0f rows/s",
                      kFeatures + 2, raw_redis.rps));

  std::cout << "memory: 1 producer, then " << flags.producers << " producers at once\n";
  // An ingestion process of its own, with a budget far below what the producers send at once.
  ASSIGN_OR_RETURN(
      testing::TestService * budgeted,
      single.stack->Spawn("ingestion", {.section = absl::StrCat("max_in_flight: 1024, "
                                                                "max_bytes_in_flight: ",
                                                                flags.memory_budget_mib,
                                                                "MiB, "
                                                                "max_streams: ",
                                                                flags.max_streams),
                                        .server = absl::StrCat("log_level: warning, "
                                                               "grpc_memory_limit: ",
                                                               flags.grpc_memory_mib, "MiB")}));
  ASSIGN_OR_RETURN(MemoryRun one, PeakUnderProducers(flags, *budgeted, 1));
  ASSIGN_OR_RETURN(MemoryRun many, PeakUnderProducers(flags, *budgeted, flags.producers));
  std::cout << "memory: " << 2 * flags.producers << " producers at once\n";
  ASSIGN_OR_RETURN(MemoryRun twice, PeakUnderProducers(flags, *budgeted, 2 * flags.producers));
  const double mib = 1 << 20;
  // Flat: twice the producers, not more memory (within a tenth); what bounds it is the
  // process's own, the budget, the number of streams open at once and gRPC's quota.
  report.Add({.name = absl::StrFormat("ingestion's peak resident memory, %d producers at once",
                                      2 * flags.producers),
              .value = twice.peak_resident / mib,
              .unit = "MiB",
              .raw = many.peak_resident / mib,
              .raw_name = absl::StrFormat("the same, %d producers", flags.producers),
              .target = "flat: within 10% of half as many producers'",
              .met = twice.peak_resident <= many.peak_resident * 11 / 10});
  report.Note(absl::StrFormat(
      "memory: producers push batches of %d rows (20 each, 16 in flight per producer: %.1f MiB "
      "of requests each if all were taken) into an ingestion process with max_bytes_in_flight "
      "%d MiB, max_streams %d and grpc_memory_limit %d MiB; peak resident: 1 producer %.1f MiB, "
      "%d producers %.1f MiB, %d producers %.1f MiB; sends refused for now (budget) and made "
      "again: %d, %d, %d; streams refused (max_streams) or ended by gRPC's quota, reopened and "
      "their batches sent again: %d, %d, %d",
      flags.producer_batch_rows,
      16.0 * Sample(flags.producer_batch_rows, 1'000'000).ByteSizeLong() / mib,
      flags.memory_budget_mib, flags.max_streams, flags.grpc_memory_mib, one.peak_resident / mib,
      flags.producers, many.peak_resident / mib, 2 * flags.producers, twice.peak_resident / mib,
      one.refused, many.refused, twice.refused, one.streams_cut, many.streams_cut,
      twice.streams_cut));
  return absl::OkStatus();
}

int Run(const Flags& flags) {
  base::SetLogLevel(base::LogLevel::kWarning);
  Report report("ingest");
  if (flags.single) {
    if (absl::Status s = RunSingle(flags, report); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }

  if (flags.cluster) {
    std::cout << "starting the stack on a 3-node NATS cluster, streams with 3 replicas...\n";
    absl::StatusOr<Stack> cluster = StartStack(flags, 3);
    if (!cluster.ok()) {
      std::cerr << cluster.status() << "\n";
      return 1;
    }
    double raw_cluster = 0;
    if (absl::Status s =
            Measure(flags, *cluster, 3, "3-node cluster, 3 replicas", report, &raw_cluster);
        !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }
  report.Note(
      absl::StrFormat("%d cores shared by everything (load generator, services, "
                      "backends, all nats-servers)",
                      static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))));
  report.Publish(flags.out, std::cout);
  return 0;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) {
  granary::bench::Flags flags;
  std::string self = argv[0];
  flags.bin_dir = self.substr(0, self.rfind('/') + 1) + "../..";
  CLI::App app{"ingestion benchmark"};
  app.add_option("--out", flags.out);
  app.add_option("--bin_dir", flags.bin_dir, "where services/ingestion/ingestion etc. are");
  app.add_option("--workers", flags.workers, "materializer replicas");
  app.add_option("--batches", flags.batches, "batches in the throughput run");
  app.add_option("--batch_rows", flags.batch_rows);
  app.add_option("--in_flight", flags.in_flight, "batches awaiting their ack at most");
  app.add_option("--fresh_seconds", flags.fresh_seconds, "length of the freshness run");
  app.add_option("--producers", flags.producers, "concurrent producers in the memory run");
  app.add_option("--producer_batches", flags.producer_batches, "batches each of them pushes");
  app.add_option("--producer_batch_rows", flags.producer_batch_rows, "rows of those batches");
  app.add_option("--memory_budget_mib", flags.memory_budget_mib,
                 "max_bytes_in_flight of the ingestion process the memory run pushes to");
  app.add_option("--max_streams", flags.max_streams,
                 "PushStreams the memory run's ingestion keeps open at once");
  app.add_option("--grpc_memory_mib", flags.grpc_memory_mib,
                 "its server.grpc_memory_limit (gRPC's own buffers)");
  app.add_flag("!--no_cluster", flags.cluster, "skip the 3-node cluster run");
  app.add_flag("!--no_single", flags.single, "skip the single nats-server run");
  app.add_flag("!--no_throughput", flags.throughput,
               "the single nats-server run measures memory only");
  CLI11_PARSE(app, argc, argv);
  return granary::bench::Run(flags);
}
