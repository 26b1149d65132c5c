// Per-method request counts by status code and latency histograms for every gRPC call, recorded
// by a server interceptor. The registered services' methods (and gRPC's health and reflection
// services) get their series up front, so a call does a lookup in a map that no longer
// changes once serving; a path no service serves counts under one "unknown" series, so
// callers cannot create series at will. A status code's counter is created the first time the
// method returns that code, then reused without locking.
//
// The interceptor is also the last line of the "never UNKNOWN" rule: a call about to end with
// UNKNOWN (a handler that threw, or returned it) ends with INTERNAL instead.
//
//   grpc_server_handled_total{grpc_service, grpc_method, grpc_code}
//   grpc_server_handling_seconds{grpc_service, grpc_method}   (histogram)
#ifndef GRANARY_LIBS_SERVER_GRPC_METRICS_H_
#define GRANARY_LIBS_SERVER_GRPC_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

#include "libs/metrics/atomic_histogram.h"

namespace granary::server {

class GrpcMetrics {
 public:
  // The series of one method.
  struct Method {
    std::string service;
    std::string method;
    // By grpc::StatusCode; null until that code is first returned.
    std::array<std::atomic<prometheus::Counter*>, 17> handled{};
    metrics::AtomicHistogram* latency = nullptr;
  };

  explicit GrpcMetrics(prometheus::Registry& registry);

  // Creates the series of every method of a service (by its full protobuf name). Call before
  // the server starts.
  void AddService(absl::string_view full_name);

  // The series of "/package.Service/Method", or the "unknown" series.
  Method& ForPath(absl::string_view path);
  // Whether the path is a method of a service added (or gRPC's own).
  bool Knows(absl::string_view path) const { return methods_.contains(path); }

  // Counts one call that ended with `code`.
  void CountHandled(Method& method, int code);

  // An interceptor factory for ServerBuilder::experimental().SetInterceptorCreators.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

  // The latency histograms, for the metrics endpoint (they are not in the registry).
  std::shared_ptr<prometheus::Collectable> latency_histograms() const { return latency_; }

 private:
  void AddMethod(absl::string_view service, absl::string_view method);
  std::unique_ptr<Method> Create(absl::string_view service, absl::string_view method);
  // The counter of one method and code, created on first use.
  prometheus::Counter& Series(Method& method, int code);

  prometheus::Family<prometheus::Counter>& handled_;
  std::shared_ptr<metrics::AtomicHistogramFamily> latency_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;  // fixed once serving
  std::unique_ptr<Method> unknown_;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_GRPC_METRICS_H_
