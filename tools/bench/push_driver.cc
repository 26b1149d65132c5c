#include "tools/bench/push_driver.h"

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/grpcpp.h"

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
  grpc::ClientContext ctx;
  auto stream = stub->PushStream(&ctx);
  PushRun run;
  run.sent.resize(count);
  run.acked.resize(count);
  absl::Mutex mu;
  int outstanding = 0;
  std::string error;
  std::thread reader([&] {
    ingestion::v1::PushStreamResponse resp;
    for (int got = 0; got < count && stream->Read(&resp); ++got) {
      absl::Time now = absl::Now();
      int index = 0;
      absl::MutexLock lock(&mu);
      if (!resp.has_ack() && error.empty()) error = resp.error().message();
      absl::string_view id = resp.batch_id();
      if (absl::ConsumePrefix(&id, run_id + "-") && absl::SimpleAtoi(id, &index) && index >= 0 &&
          index < count) {
        run.acked[index] = now;
      }
      --outstanding;
    }
  });
  run.start = absl::Now();
  for (int i = 0; i < count; ++i) {
    if (per_second > 0) {
      absl::Time due = run.start + absl::Seconds(i / per_second);
      absl::SleepFor(due - absl::Now());  // pacing the load, not waiting for a result
    }
    {
      absl::MutexLock lock(&mu);
      auto room = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
        return outstanding < in_flight_ || !error.empty();
      };
      mu.Await(absl::Condition(&room));
      if (!error.empty()) break;
      ++outstanding;
      run.sent[i] = absl::Now();
    }
    run.rows += requests[i].batch().columns().begin()->second.val_size();
    if (!stream->Write(requests[i])) break;
  }
  stream->WritesDone();
  reader.join();
  grpc::Status status = stream->Finish();
  run.end = absl::Now();
  if (!error.empty()) return absl::InternalError("a batch failed: " + error);
  if (!status.ok()) return absl::UnavailableError("PushStream: " + status.error_message());
  for (int i = 0; i < count; ++i) {
    if (run.acked[i] == absl::Time())
      return absl::InternalError(absl::StrCat("batch ", i, " unacked"));
    run.end = std::max(run.end, run.acked[i]);
  }
  run.end = *std::max_element(run.acked.begin(), run.acked.end());
  return run;
}

}  // namespace granary::bench
