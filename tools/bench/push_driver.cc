#include "tools/bench/push_driver.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"

namespace granary::bench {

absl::StatusOr<PushRun> PushDriver::Run(const std::function<ingestion::v1::PushRequest(int)>& make,
                                        int count, double per_second) {
  // Built before the clock starts: the benchmark measures the service, not proto building.
  std::vector<ingestion::v1::PushStreamRequest> requests(count);
  // Batch ids unique to this run: JetStream would take a repeated id for a retry.
  const std::string run_id = absl::StrCat(absl::ToUnixNanos(absl::Now()));
  for (int i = 0; i < count; ++i) {
    *requests[i].mutable_batch() = make(i);
    requests[i].mutable_batch()->set_batch_id(absl::StrCat(run_id, "-", i));
  }
  auto stub = ingestion::v1::IngestionService::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  PushRun run;
  run.sent.resize(count);
  run.acked.resize(count);
  run.start = absl::Now();
  absl::Mutex mu;
  int answered = 0;
  int next = 0;
  // Batches turned away for now (RESOURCE_EXHAUSTED: ingestion's budget spent; UNAVAILABLE: a
  // catalog not loaded yet, NATS away), and those of a stream cut under them, by when they may
  // go again: sent again under the same id, as a producer would.
  std::multimap<absl::Time, int> again;
  while (true) {
    grpc::ClientContext ctx;
    auto stream = stub->PushStream(&ctx);
    // Sent on this stream and not answered yet.
    std::set<int> outstanding;
    std::string error;
    bool ended = false;
    std::thread reader([&] {
      ingestion::v1::PushStreamResponse resp;
      while (stream->Read(&resp)) {
        absl::Time now = absl::Now();
        int index = -1;
        absl::MutexLock lock(&mu);
        absl::string_view id = resp.batch_id();
        if (!absl::ConsumePrefix(&id, run_id + "-") || !absl::SimpleAtoi(id, &index) || index < 0 ||
            index >= count) {
          continue;
        }
        outstanding.erase(index);
        if (resp.has_ack()) {
          run.acked[index] = now;
          if (++answered == count) break;
        } else if (resp.error().code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)) {
          ++run.refused;
          again.emplace(now + absl::Milliseconds(resp.error().retry_after_ms()), index);
        } else if (resp.error().code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE)) {
          ++run.unavailable;
          again.emplace(
              now + absl::Milliseconds(std::max<int64_t>(resp.error().retry_after_ms(), 100)),
              index);
        } else if (error.empty()) {
          error = resp.error().message();
          break;
        }
      }
      while (stream->Read(&resp)) {
        // Drained: Finish comes after the last read.
      }
      absl::MutexLock lock(&mu);
      ended = true;
    });
    while (true) {
      int index = -1;
      {
        absl::MutexLock lock(&mu);
        auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
          return ended || !error.empty() || answered == count ||
                 (static_cast<int>(outstanding.size()) < in_flight_ &&
                  (next < count || !again.empty()));
        };
        mu.Await(absl::Condition(&ready));
        if (ended || !error.empty() || answered == count) break;
        if (!again.empty() && (next == count || again.begin()->first <= absl::Now())) {
          if (again.begin()->first > absl::Now()) {
            const absl::Time due = again.begin()->first;
            mu.Unlock();
            absl::SleepFor(due - absl::Now());  // the service's retry hint, as a producer waits
            mu.Lock();
            continue;
          }
          index = again.begin()->second;
          again.erase(again.begin());
        } else {
          index = next++;
          if (per_second > 0) {
            mu.Unlock();
            absl::Time due = run.start + absl::Seconds(index / per_second);
            absl::SleepFor(due - absl::Now());  // pacing the load, not waiting for a result
            mu.Lock();
          }
          run.sent[index] = absl::Now();
          run.rows += requests[index].batch().columns().begin()->second.val_size();
        }
        outstanding.insert(index);
      }
      if (!stream->Write(requests[index])) break;
    }
    stream->WritesDone();
    reader.join();
    grpc::Status status = stream->Finish();
    if (!error.empty()) return absl::InternalError("a batch failed: " + error);
    if (answered == count) break;
    // The stream was cut (gRPC's own memory quota reclaims streams with RESOURCE_EXHAUSTED;
    // UNAVAILABLE while ingestion restarts): a producer opens another and sends again what
    // was not answered, under the same ids.
    if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
        status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(absl::StrCat("PushStream ended with ", answered, " of ", count,
                                                 " batches answered: ", status.error_code(), " ",
                                                 status.error_message()));
    }
    ++run.streams_cut;
    // Not before the service's hint (a stream refused past max_streams carries one), as a
    // producer should: reopening at once would only be refused again.
    absl::SleepFor(std::max(
        absl::Milliseconds(100),
        base::RetryAfter(base::FromGrpcStatus(status, ctx)).value_or(absl::ZeroDuration())));
    const absl::Time resend = absl::Now();
    for (int index : outstanding) again.emplace(resend, index);
  }
  run.end = absl::Now();
  for (int i = 0; i < count; ++i) {
    if (run.acked[i] == absl::Time())
      return absl::InternalError(absl::StrCat("batch ", i, " unacked"));
    run.end = std::max(run.end, run.acked[i]);
  }
  run.end = *std::max_element(run.acked.begin(), run.acked.end());
  return run;
}

}  // namespace granary::bench
