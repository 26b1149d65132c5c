#include "libs/trace/test_receiver.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace granary::trace {

namespace otlp_collector = ::opentelemetry::proto::collector::trace::v1;

class TestReceiver::Service final : public otlp_collector::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext*,
                      const otlp_collector::ExportTraceServiceRequest* request,
                      otlp_collector::ExportTraceServiceResponse* response) override {
    absl::MutexLock lock(&mu);
    ++calls;
    if (refuse) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused by the test");
    if (reject > 0) {
      response->mutable_partial_success()->set_rejected_spans(reject);
      response->mutable_partial_success()->set_error_message("rejected by the test");
    }
    for (const auto& resource_spans : request->resource_spans()) {
      std::string service;
      for (const auto& kv : resource_spans.resource().attributes()) {
        if (kv.key() == "service.name") service = kv.value().string_value();
      }
      for (const auto& scope_spans : resource_spans.scope_spans()) {
        for (const auto& span : scope_spans.spans()) spans.push_back({service, span});
      }
    }
    return grpc::Status::OK;
  }

  absl::Mutex mu;
  std::vector<ReceivedSpan> spans ABSL_GUARDED_BY(mu);
  int calls ABSL_GUARDED_BY(mu) = 0;
  bool refuse ABSL_GUARDED_BY(mu) = false;
  int64_t reject ABSL_GUARDED_BY(mu) = 0;
};

TestReceiver::TestReceiver() : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
}

TestReceiver::~TestReceiver() { server_->Shutdown(); }

std::string TestReceiver::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::vector<ReceivedSpan> TestReceiver::Spans() {
  absl::MutexLock lock(&service_->mu);
  return service_->spans;
}

std::vector<ReceivedSpan> TestReceiver::WaitForSpans(
    const std::function<bool(const std::vector<ReceivedSpan>&)>& done, absl::Duration timeout) {
  absl::MutexLock lock(&service_->mu);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->mu) { return done(service_->spans); };
  service_->mu.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return service_->spans;
}

int TestReceiver::calls() {
  absl::MutexLock lock(&service_->mu);
  return service_->calls;
}

void TestReceiver::RejectEach(int64_t spans) {
  absl::MutexLock lock(&service_->mu);
  service_->reject = spans;
}

void TestReceiver::Refuse(bool refuse) {
  absl::MutexLock lock(&service_->mu);
  service_->refuse = refuse;
}

}  // namespace granary::trace
