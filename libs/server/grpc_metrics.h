// Per-method request counts by status code and latency histograms for every gRPC call, recorded
// by a server interceptor. The registered services' methods get their series up front (the OK
// count and the histogram), so the request path does a lookup in an immutable map; the series
// of any other status code is created the first time that code is returned, then reused
// without locking.
//
//   grpc_server_handled_total{grpc_service, grpc_method, grpc_code}
//   grpc_server_handling_seconds{grpc_service, grpc_method}   (histogram)
#ifndef GRANARY_LIBS_SERVER_GRPC_METRICS_H_
#define GRANARY_LIBS_SERVER_GRPC_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace granary::server {

class GrpcMetrics {
 public:
  // The series of one method.
  struct Method {
    std::string service;
    std::string method;
    // By grpc::StatusCode; null until that code is first returned.
    std::array<std::atomic<prometheus::Counter*>, 17> handled{};
    prometheus::Histogram* latency = nullptr;
  };

  explicit GrpcMetrics(prometheus::Registry& registry);

  // Creates the series of every method of a service (by its full protobuf name). Call before
  // the server starts.
  void AddService(absl::string_view full_name);

  // The series of "/package.Service/Method"; created on first use for methods of services not
  // added (gRPC's own health and reflection services).
  Method& ForPath(absl::string_view path);

  // Counts one call that ended with `code`.
  void CountHandled(Method& method, int code);

  // An interceptor factory for ServerBuilder::experimental().SetInterceptorCreators.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

 private:
  std::unique_ptr<Method> Create(absl::string_view service, absl::string_view method);
  // The counter of one method and code, created on first use.
  prometheus::Counter& Series(Method& method, int code);

  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;  // fixed once serving
  absl::Mutex late_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> late_methods_ ABSL_GUARDED_BY(late_mu_);
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_GRPC_METRICS_H_
