// A GetOnlineFeatures server on one of gRPC's three server APIs (sync, completion queue,
// callback), answering a fixed 1 x 50 response, optionally after one real Redis HMGET of 51
// fields (the blocking round trip serving makes). grpc_api_bench runs it out of process to
// choose the API serving is built on.
//
//   grpc_api_probe_server --api=cq --port=12345 --threads=4 [--redis=127.0.0.1:6379]
#include <atomic>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include <hiredis/hiredis.h>

#include "libs/config/reader.h"

namespace granary::bench {
namespace {

namespace v1 = serving::v1;

constexpr int kFeatures = 50;

v1::GetOnlineFeaturesResponse CannedResponse() {
  v1::GetOnlineFeaturesResponse r;
  r.set_status(true);
  r.mutable_metadata()->mutable_feature_names()->add_val("driver_id");
  auto* key = r.add_results();
  key->add_values()->set_int64_val(1001);
  key->add_statuses(v1::PRESENT);
  key->add_event_timestamps();
  for (int i = 0; i < kFeatures; ++i) {
    r.mutable_metadata()->mutable_feature_names()->add_val(absl::StrCat("f", i));
    auto* column = r.add_results();
    column->add_values()->set_double_val(i * 0.5);
    column->add_statuses(v1::PRESENT);
    column->add_event_timestamps()->set_seconds(1700000000);
  }
  return r;
}

// The per-request work: one HMGET on this thread's connection when --redis is set.
class Work {
 public:
  Work(std::string host, int port) : host_(std::move(host)), port_(port) {
    args_.push_back("HMGET");
    args_.push_back("probe-key");
    for (int i = 0; i <= kFeatures; ++i) args_.push_back(absl::StrCat("field", i));
  }

  bool Do(v1::GetOnlineFeaturesResponse* response) const {
    static const v1::GetOnlineFeaturesResponse canned = CannedResponse();
    if (port_ != 0) {
      // Closed when the thread ends: the sync API's pool starts and ends threads as load varies.
      thread_local std::unique_ptr<redisContext, void (*)(redisContext*)> owned(nullptr, redisFree);
      if (owned == nullptr || owned->err != 0) owned.reset(redisConnect(host_.c_str(), port_));
      redisContext* context = owned.get();
      if (context == nullptr || context->err != 0) return false;
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const std::string& a : args_) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      auto* reply = static_cast<redisReply*>(
          redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lens.data()));
      if (reply == nullptr) return false;
      freeReplyObject(reply);
    }
    *response = canned;
    return true;
  }

 private:
  std::string host_;
  int port_;
  std::vector<std::string> args_;
};

grpc::Status Answer(const Work& work, v1::GetOnlineFeaturesResponse* response) {
  return work.Do(response) ? grpc::Status::OK
                           : grpc::Status(grpc::StatusCode::UNAVAILABLE, "redis");
}

class SyncService final : public v1::ServingService::Service {
 public:
  explicit SyncService(const Work& work) : work_(work) {}
  grpc::Status GetOnlineFeatures(grpc::ServerContext*, const v1::GetOnlineFeaturesRequest*,
                                 v1::GetOnlineFeaturesResponse* response) override {
    return Answer(work_, response);
  }

 private:
  const Work& work_;
};

// Redis pipelined across calls: handlers queue their HMGET and return at once; an I/O thread
// sends everything queued in one write, reads the replies, and finishes each call.
class Pipeliner {
 public:
  Pipeliner(const std::string& host, int port) {
    context_ = redisConnect(host.c_str(), port);
    args_.push_back("HMGET");
    args_.push_back("probe-key");
    for (int i = 0; i <= kFeatures; ++i) args_.push_back(absl::StrCat("field", i));
    for (const std::string& a : args_) {
      argv_.push_back(a.data());
      lens_.push_back(a.size());
    }
    thread_ = std::thread([this] { Loop(); });
  }

  void Submit(std::function<void(bool)> done) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(done));
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::vector<std::function<void(bool)>> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        batch.swap(queue_);
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        redisAppendCommandArgv(context_, static_cast<int>(argv_.size()), argv_.data(),
                               lens_.data());
      }
      for (auto& done : batch) {
        void* reply = nullptr;
        bool ok = redisGetReply(context_, &reply) == REDIS_OK;
        if (reply != nullptr) freeReplyObject(reply);
        done(ok);
      }
      batch.clear();
    }
  }

  redisContext* context_;
  std::vector<std::string> args_;
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void(bool)>> queue_;
  std::thread thread_;
};

class PipelinedService final : public v1::ServingService::CallbackService {
 public:
  PipelinedService(const std::string& host, int port, int connections) {
    for (int i = 0; i < connections; ++i)
      pipeliners_.push_back(std::make_unique<Pipeliner>(host, port));
  }
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const v1::GetOnlineFeaturesRequest*,
                                              v1::GetOnlineFeaturesResponse* response) override {
    static const v1::GetOnlineFeaturesResponse canned = CannedResponse();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    pipeliners_[next_++ % pipeliners_.size()]->Submit([reactor, response](bool ok) {
      *response = canned;
      reactor->Finish(ok ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAVAILABLE, "redis"));
    });
    return reactor;
  }

 private:
  std::atomic<uint64_t> next_{0};
  std::vector<std::unique_ptr<Pipeliner>> pipeliners_;
};

class CallbackService final : public v1::ServingService::CallbackService {
 public:
  explicit CallbackService(const Work& work) : work_(work) {}
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const v1::GetOnlineFeaturesRequest*,
                                              v1::GetOnlineFeaturesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Answer(work_, response));
    return reactor;
  }

 private:
  const Work& work_;
};

// The completion-queue pattern: each call is an object that asks for the next call, does the
// work on the thread that polled it, answers, and deletes itself when the answer is sent.
class AsyncCall {
 public:
  AsyncCall(v1::ServingService::AsyncService* service, grpc::ServerCompletionQueue* cq,
            const Work& work)
      : service_(service), cq_(cq), work_(work), writer_(&context_) {
    service_->RequestGetOnlineFeatures(&context_, &request_, &writer_, cq_, cq_, this);
  }

  void Proceed(bool ok) {
    if (answered_ || !ok) {
      delete this;
      return;
    }
    new AsyncCall(service_, cq_, work_);
    answered_ = true;
    writer_.Finish(response_, Answer(work_, &response_), this);
  }

 private:
  v1::ServingService::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  const Work& work_;
  grpc::ServerContext context_;
  v1::GetOnlineFeaturesRequest request_;
  v1::GetOnlineFeaturesResponse response_;
  grpc::ServerAsyncResponseWriter<v1::GetOnlineFeaturesResponse> writer_;
  bool answered_ = false;
};

int Main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"gRPC server API probe"};
  std::string api = "sync";
  int port = 0;
  int threads = 2;
  std::string redis;
  app.add_option("--api", api)->check(CLI::IsMember({"sync", "cq", "callback", "pipelined"}));
  app.add_option("--port", port)->required();
  app.add_option("--threads", threads, "completion-queue threads (cq only)");
  app.add_option("--redis", redis, "host:port to HMGET from per request");
  bool health = false;
  app.add_flag("--health", health,
               "also serve gRPC's default health service (callback-based: it brings gRPC's "
               "callback threads into the process)");
  CLI11_PARSE(app, argc, argv);

  std::string redis_host;
  int redis_port = 0;
  if (!redis.empty()) {
    auto parsed = config::ParseHostPort(redis);
    if (!parsed.ok()) {
      std::cerr << parsed.status() << "\n";
      return 2;
    }
    redis_host = parsed->host;
    redis_port = parsed->port;
  }
  Work work(redis_host, redis_port);

  grpc::EnableDefaultHealthCheckService(health);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials());
  SyncService sync(work);
  CallbackService callback(work);
  v1::ServingService::AsyncService async;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  if (api == "sync") builder.RegisterService(&sync);
  if (api == "callback") builder.RegisterService(&callback);
  std::unique_ptr<PipelinedService> pipelined;
  if (api == "pipelined") {
    pipelined = std::make_unique<PipelinedService>(redis_host, redis_port, threads);
    builder.RegisterService(pipelined.get());
  }
  if (api == "cq") {
    builder.RegisterService(&async);
    for (int i = 0; i < threads; ++i) cqs.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 1;
  std::cout << "ready" << std::endl;
  std::vector<std::thread> pollers;
  for (auto& cq : cqs) {
    pollers.emplace_back([&async, &work, cq = cq.get()] {
      // Enough posted calls per queue that a burst never waits for one to be re-posted.
      for (int i = 0; i < 64; ++i) new AsyncCall(&async, cq, work);
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<AsyncCall*>(tag)->Proceed(ok);
    });
  }
  server->Wait();  // until killed: the bench stops it with SIGTERM
  return 0;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) { return granary::bench::Main(argc, argv); }
