#include "tools/bench/loadgen.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace granary::bench {
namespace {

using Response = serving::v1::GetOnlineFeaturesResponse;

// One call in flight. `due` is when the load schedule wanted it sent: its latency counts from
// there, so time the client itself lost is charged to the result, never hidden.
struct Call {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  absl::Time due;
  absl::Time sent;
};

bool ParseResponse(const grpc::ByteBuffer& buffer, Response* response) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  if (slices.size() == 1) {
    return response->ParseFromArray(slices[0].begin(), static_cast<int>(slices[0].size()));
  }
  std::string joined;
  for (const grpc::Slice& s : slices) {
    joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return response->ParseFromString(joined);
}

class Generator {
 public:
  explicit Generator(const LoadOptions& options) : options_(options) {
    for (const auto& request : *options.requests) {
      std::string bytes = request.SerializeAsString();
      grpc::Slice slice(bytes);
      payloads_.emplace_back(&slice, 1);
    }
    for (int i = 0; i < std::max(1, options.connections); ++i) {
      grpc::ChannelArguments args;
      // Distinct arguments and a private pool: one TCP connection per channel.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("granary.loadgen.connection", i);
      auto channel =
          grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
      channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
  }

  LoadResult Run() {
    start_ = absl::Now();
    measure_from_ = start_ + options_.warmup;
    end_ = measure_from_ + options_.duration;
    std::thread completions([this] { Complete(); });
    if (options_.rate > 0) {
      Pace();
    } else {
      for (int i = 0; i < options_.concurrency; ++i) Issue(absl::Now());
    }
    // Closed loop: the completion thread keeps issuing until the end; then both loops drain.
    while (absl::Now() < end_) absl::SleepFor(absl::Milliseconds(10));
    issuing_done_.store(true);
    while (in_flight_.load() > 0) absl::SleepFor(absl::Milliseconds(1));
    cq_.Shutdown();
    completions.join();
    result_.errors += overloaded_.load();
    if (overloaded_.load() > 0) result_.errors_by_kind["overloaded"] += overloaded_.load();
    result_.throughput = static_cast<double>(result_.ok) / absl::ToDoubleSeconds(options_.duration);
    return std::move(result_);
  }

 private:
  void Issue(absl::Time due) {
    uint64_t n = sent_.fetch_add(1);
    auto* call = new Call;
    call->due = due;
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
    for (const auto& [key, value] : options_.metadata) call->context.AddMetadata(key, value);
    call->reader = stubs_[n % stubs_.size()]->PrepareUnaryCall(
        &call->context, options_.method, payloads_[n % payloads_.size()], &cq_);
    in_flight_.fetch_add(1);
    call->sent = absl::Now();
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  }

  // Open loop: every request due by now goes out; one that finds all slots busy is an error.
  void Pace() {
    const absl::Duration interval = absl::Seconds(1) / options_.rate;
    absl::Time next = start_;
    while (next < end_) {
      absl::Time now = absl::Now();
      for (; next <= now && next < end_; next += interval) {
        if (in_flight_.load() >= options_.concurrency) {
          if (next >= measure_from_) overloaded_.fetch_add(1);
          continue;
        }
        Issue(next);
      }
      if (next > now) absl::SleepFor(next - now);
    }
  }

  void Complete() {
    void* tag;
    bool ok;
    Response parsed;
    while (cq_.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      absl::Time done = absl::Now();
      bool measured = call->due >= measure_from_ && call->due < end_;
      if (measured) Record(*call, done, parsed);
      // Closed loop: keep `concurrency` in flight until the end.
      if (options_.rate <= 0 && done < end_ && !issuing_done_.load()) Issue(done);
      in_flight_.fetch_sub(1);
    }
  }

  void Record(const Call& call, absl::Time done, Response& parsed) {
    if (!call.status.ok()) {
      ++result_.errors;
      ++result_.errors_by_kind[absl::StatusCodeToString(
          static_cast<absl::StatusCode>(call.status.error_code()))];
      return;
    }
    if (options_.check != nullptr && ++completed_ % std::max(1, options_.check_every) == 0) {
      parsed.Clear();
      if (!ParseResponse(call.response, &parsed) || !options_.check(parsed)) {
        ++result_.errors;
        ++result_.errors_by_kind["bad response"];
        return;
      }
    }
    ++result_.ok;
    result_.latencies.push_back(done - call.due);
    result_.send_lags.push_back(call.sent - call.due);
  }

  const LoadOptions& options_;
  std::vector<grpc::ByteBuffer> payloads_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  grpc::CompletionQueue cq_;
  absl::Time start_, measure_from_, end_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> overloaded_{0};
  std::atomic<bool> issuing_done_{false};
  LoadResult result_;  // written by the completion thread only
  uint64_t completed_ = 0;
};

}  // namespace

LoadResult RunLoad(const LoadOptions& options) {
  Generator generator(options);
  return generator.Run();
}

}  // namespace granary::bench
