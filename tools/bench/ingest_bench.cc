// The ingestion benchmark: rows of 10 DOUBLE features pushed over PushStream to the ingestion
// service (its own process), stored in JetStream, applied to Redis by two materializer replicas
// (their own processes). Beside each figure, the raw backends measured in the same run:
//
//   sustained throughput, acked and in Redis   >= 50,000 rows/s, batches of 100, many in
//                                              flight; beside JetStream async publish of the
//                                              same bytes and redis-benchmark pipelined HSET
//   push -> servable at 1,000 rows/s          p99 <= 10 ms, from sending a batch to its last
//                                              row's write in Redis (keyspace notification);
//                                              beside JetStream's publish-ack round trip
//
//   tools/bench/run ingest
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/bus/jetstream.h"
#include "libs/keys/entity_key.h"
#include "tools/bench/ingest_stack.h"
#include "tools/bench/keyspace_watch.h"
#include "tools/bench/push_driver.h"
#include "tools/bench/raw_tools.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

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
};

// Batch `b` of `rows` rows: entities (first + b * rows + r) mod `entities`, and an event time
// that grows with b so every row is newer than what it replaces.
ingestion::v1::PushRequest Batch(int b, int rows, int64_t first, int entities) {
  ingestion::v1::PushRequest req;
  req.set_push_source_name(kIngestSource);
  req.set_to(ingestion::v1::ONLINE);
  auto& columns = *req.mutable_columns();
  auto& ids = columns["device_id"];
  auto& ts = columns["event_timestamp"];
  std::vector<types::v1::RepeatedValue*> features;
  for (int f = 0; f < kIngestFeatures; ++f)
    features.push_back(&columns[absl::StrFormat("f%02d", f)]);
  const int64_t event = absl::ToUnixSeconds(absl::Now()) - 3600 + b;
  for (int r = 0; r < rows; ++r) {
    ids.add_val()->set_int64_val(first + (int64_t{b} * rows + r) % entities);
    ts.add_val()->set_unix_timestamp_val(event);
    for (int f = 0; f < kIngestFeatures; ++f)
      features[f]->add_val()->set_double_val(b + r * 0.001 + f);
  }
  return req;
}

std::string KeyOf(int64_t id) {
  types::v1::Value v;
  v.set_int64_val(id);
  return *keys::RedisKey({{"device_id", v}}, kIngestProject);
}

// JetStream alone: async publishes of `count` messages of `size` bytes, all acked; messages/s.
absl::StatusOr<double> RawJetStream(const IngestStack& stack, size_t size, int count,
                                    std::vector<absl::Duration>* round_trips) {
  bus::NatsOptions o;
  o.url = stack.nats().url();
  ASSIGN_OR_RETURN(auto conn, bus::Connection::Open(o));
  if (!conn->WaitConnected(absl::Seconds(5))) return absl::UnavailableError("nats");
  ASSIGN_OR_RETURN(auto js, bus::JetStream::Create(conn));
  RETURN_IF_ERROR(js->EnsureStream({.name = "RAW_BENCH", .subjects = {"raw.bench"}}).status());
  const std::string payload(size, 'x');
  absl::Mutex mu;
  int left = count;
  absl::Status failed;
  absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    js->PublishAsync("raw.bench", payload, absl::StrCat("raw-", i),
                     [&](absl::StatusOr<bus::PublishAck> ack) {
                       absl::MutexLock lock(&mu);
                       if (!ack.ok()) failed = ack.status();
                       --left;
                     });
  }
  {
    absl::MutexLock lock(&mu);
    auto all = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return left == 0; };
    mu.Await(absl::Condition(&all));
  }
  double per_second = count / absl::ToDoubleSeconds(absl::Now() - start);
  RETURN_IF_ERROR(failed);
  // One at a time, for the latency floor of a durable publish.
  for (int i = 0; i < 1000; ++i) {
    absl::Time t = absl::Now();
    RETURN_IF_ERROR(js->Publish("raw.bench", payload.substr(0, size / 10), "").status());
    round_trips->push_back(absl::Now() - t);
  }
  return per_second;
}

// When the writers' counters reach `rows` (InfinitePast if not within two minutes).
absl::Time WaitWritten(const IngestStack& stack, int64_t rows) {
  for (absl::Time give_up = absl::Now() + absl::Minutes(2); absl::Now() < give_up;) {
    if (stack.RowsWrittenOnline() >= static_cast<double>(rows)) return absl::Now();
    absl::SleepFor(absl::Milliseconds(20));  // polling the writers' counters, bounded
  }
  return absl::InfinitePast();
}

int Run(const Flags& flags) {
  base::SetLogLevel(base::LogLevel::kWarning);
  Report report("ingest");
  std::cout << "starting the stack (ingestion and " << flags.workers << " materializers)...\n";
  auto started = IngestStack::Start({.bin_dir = flags.bin_dir, .workers = flags.workers});
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 1;
  }
  IngestStack& stack = **started;
  PushDriver driver(stack.ingestion_address(), flags.in_flight);

  std::cout << "measuring: throughput\n";
  auto run = driver.Run([&](int b) { return Batch(b, flags.batch_rows, 0, flags.entities); },
                        flags.batches, 0);
  if (!run.ok()) {
    std::cerr << run.status() << "\n";
    return 1;
  }
  absl::Time written = WaitWritten(stack, run->rows);
  const double acked_rps = run->rows / absl::ToDoubleSeconds(run->end - run->start);
  const double e2e_rps =
      written == absl::InfinitePast() ? 0 : run->rows / absl::ToDoubleSeconds(written - run->start);

  std::cout << "measuring: freshness\n";
  KeyspaceWatch watch(stack.redis().host(), stack.redis().port());
  if (absl::Status s = watch.Start(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  const int fresh_batches =
      static_cast<int>(flags.fresh_seconds * flags.fresh_rows_per_second / flags.fresh_batch_rows);
  const int64_t first = 10'000'000;  // keys no other run touched: each row is one new write
  auto fresh = driver.Run([&](int b) { return Batch(b, flags.fresh_batch_rows, first, 1 << 30); },
                          fresh_batches, flags.fresh_rows_per_second / flags.fresh_batch_rows);
  // Acked is not yet written: wait for the writers before closing the watch.
  WaitWritten(stack, run->rows + (fresh.ok() ? fresh->rows : 0));
  watch.Stop();
  if (!fresh.ok()) {
    std::cerr << fresh.status() << "\n";
    return 1;
  }
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

  std::cout << "measuring: raw backends\n";
  events::v1::PushBatch sample;  // the bytes JetStream carries for one batch of 100
  {
    ingestion::v1::PushRequest req = Batch(0, flags.batch_rows, 0, flags.entities);
    sample.set_project(kIngestProject);
    sample.set_feature_view(kIngestView);
    for (int r = 0; r < flags.batch_rows; ++r) {
      auto* row = sample.add_rows();
      *row->add_join_values() = req.columns().at("device_id").val(r);
      row->mutable_event_time()->set_seconds(1);
      for (int f = 0; f < kIngestFeatures; ++f) {
        *row->add_features() = req.columns().at(absl::StrFormat("f%02d", f)).val(r);
      }
    }
  }
  std::vector<absl::Duration> js_round_trips;
  auto raw_js = RawJetStream(stack, sample.ByteSizeLong(), 20000, &js_round_trips);
  std::vector<std::string> hset = {"-c",   "4",
                                   "-n",   "200000",
                                   "-r",   absl::StrCat(flags.entities),
                                   "-P",   "100",
                                   "HSET", "rawrow:__rand_int__"};
  for (int f = 0; f <= kIngestFeatures; ++f) {
    hset.push_back(absl::StrFormat("f%02d", f));
    hset.push_back("12345678");
  }
  auto raw_redis = RunRedisBenchmark(stack.redis().port(), hset);
  if (!raw_js.ok() || !raw_redis.ok()) {
    std::cerr << (raw_js.ok() ? raw_redis.status() : raw_js.status()) << "\n";
    return 1;
  }
  const double raw_js_rows = *raw_js * flags.batch_rows;
  report.Add({.name = "throughput, acked and in Redis",
              .value = e2e_rps,
              .unit = "rows/s",
              .raw = raw_js_rows,
              .raw_name = absl::StrFormat("JetStream async publish, %d-byte messages x %d rows",
                                          sample.ByteSizeLong(), flags.batch_rows),
              .target = ">= 50000 rows/s",
              .met = e2e_rps >= 50000});
  report.Add({.name = "throughput, acked and in Redis (vs Redis)",
              .value = e2e_rps,
              .unit = "rows/s",
              .raw = raw_redis->rps,
              .raw_name = "redis-benchmark HSET 11 fields, 4 clients, 100 pipelined",
              .target = "ratio printed",
              .met = true});
  const double p99 = Ms(Percentile(servable, 99));
  report.Add({.name = "push -> servable at 1,000 rows/s: p99",
              .value = p99,
              .unit = "ms",
              .raw = Ms(Percentile(js_round_trips, 99)),
              .raw_name = "JetStream publish -> ack, one at a time, p99",
              .target = "<= 10 ms",
              .met = p99 <= 10 && missing == 0});
  report.Note(
      absl::StrFormat("throughput: %d batches of %d rows, %d in flight, %d workers; "
                      "acked %.0f rows/s, all in Redis after %.2f s",
                      flags.batches, flags.batch_rows, flags.in_flight, flags.workers, acked_rps,
                      absl::ToDoubleSeconds(written - run->start)));
  report.Note(
      absl::StrFormat("freshness: %d batches of %d rows at %.0f rows/s: p50 %.3f ms, "
                      "p99.9 %.3f ms, rows never seen %d",
                      fresh_batches, flags.fresh_batch_rows, flags.fresh_rows_per_second,
                      Ms(Percentile(servable, 50)), Ms(Percentile(servable, 99.9)), missing));
  report.Note(
      absl::StrFormat("raw: JetStream %.0f msgs/s; redis-benchmark HSET %.0f rows/s; %d "
                      "cores shared by everything",
                      *raw_js, raw_redis->rps, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))));
  report.Print(std::cout);
  absl::Status out = report.WriteJson(flags.out);
  std::cout << (out.ok() ? "results: " + flags.out : std::string(out.message())) << "\n";
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
  CLI11_PARSE(app, argc, argv);
  return granary::bench::Run(flags);
}
