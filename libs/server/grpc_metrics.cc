#include "libs/server/grpc_metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

#include "libs/base/grpc_status.h"
#include "libs/base/log.h"

namespace granary::server {
namespace {

// From 50 us (a cached online read) to 30 s (a large apply or a historical query).
std::vector<double> LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcMetrics& metrics, GrpcMetrics::Method& method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  // A call that ends without sending a status (the client went away) counts as CANCELLED.
  ~MetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNKNOWN) {
        status = grpc::Status(grpc::StatusCode::INTERNAL, status.error_message());
        methods->ModifySendStatus(status);
      }
      Record(status.error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics_.CountHandled(method_, static_cast<int>(code));
    method_.latency->Observe(elapsed.count());
  }

  GrpcMetrics& metrics_;
  GrpcMetrics::Method& method_;
  std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, metrics_.ForPath(info->method()));
  }

 private:
  GrpcMetrics& metrics_;
};

}  // namespace

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry)
    : handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("gRPC calls completed on the server, by method and status code.")
                   .Register(registry)),
      // Observed on every call: a histogram without a lock.
      latency_(std::make_shared<metrics::AtomicHistogramFamily>(
          "grpc_server_handling_seconds", "Time from a call's arrival to its status, by method.",
          LatencyBuckets())),
      unknown_(Create("unknown", "unknown")) {
  // gRPC's own services, whose messages are not in protobuf's descriptor pool.
  AddMethod("grpc.health.v1.Health", "Check");
  AddMethod("grpc.health.v1.Health", "Watch");
  AddMethod("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo");
}

void GrpcMetrics::AddMethod(absl::string_view service, absl::string_view method) {
  methods_[absl::StrCat("/", service, "/", method)] = Create(service, method);
}

std::unique_ptr<GrpcMetrics::Method> GrpcMetrics::Create(absl::string_view service,
                                                         absl::string_view method) {
  auto m = std::make_unique<Method>();
  m->service = std::string(service);
  m->method = std::string(method);
  m->latency = &latency_->Add({{"grpc_service", m->service}, {"grpc_method", m->method}});
  // OK from the start, so a dashboard shows the method at zero before its first call.
  Series(*m, 0);
  return m;
}

void GrpcMetrics::CountHandled(Method& method, int code) {
  if (code < 0 || code >= static_cast<int>(method.handled.size())) code = 2;  // UNKNOWN
  Series(method, code).Increment();
}

prometheus::Counter& GrpcMetrics::Series(Method& method, int code) {
  prometheus::Counter* counter = method.handled[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add locks and returns the same series for the same labels, so two threads
    // racing here end up with one series.
    counter = &handled_.Add({{"grpc_service", method.service},
                             {"grpc_method", method.method},
                             {"grpc_code", std::string(base::StatusCodeName(code))}});
    method.handled[code].store(counter, std::memory_order_release);
  }
  return *counter;
}

void GrpcMetrics::AddService(absl::string_view full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(full_name));
  if (service == nullptr) {
    // Its calls would count as "unknown" and their spans be named "unknown method": a name
    // misspelt in a service's build, or a proto not linked into the binary.
    base::LogError("a service to count is not in the descriptor pool").With("service", full_name);
    return;
  }
  for (int i = 0; i < service->method_count(); ++i)
    AddMethod(full_name, service->method(i)->name());
}

GrpcMetrics::Method& GrpcMetrics::ForPath(absl::string_view path) {
  auto it = methods_.find(path);
  return it != methods_.end() ? *it->second : *unknown_;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::InterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(*this);
}

}  // namespace granary::server
