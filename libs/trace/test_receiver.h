// An OTLP/gRPC trace receiver for tests, in the test's own process on a free loopback port:
// it keeps every span it is sent, with the service.name of the resource it came in, and can be
// told to refuse calls.
//
//   TestReceiver receiver;
//   ... "server: {tracing: {otlp_endpoint: " + receiver.address() + "}}" ...
//   std::vector<ReceivedSpan> spans = receiver.WaitForSpans(
//       [&](const auto& all) { return all.size() >= 2; }, absl::Seconds(30));
#ifndef GRANARY_LIBS_TRACE_TEST_RECEIVER_H_
#define GRANARY_LIBS_TRACE_TEST_RECEIVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace granary::trace {

struct ReceivedSpan {
  // The resource's service.name attribute.
  std::string service;
  opentelemetry::proto::trace::v1::Span span;
};

class TestReceiver {
 public:
  TestReceiver();
  ~TestReceiver();

  std::string address() const;
  // Every span received so far.
  std::vector<ReceivedSpan> Spans();
  // The spans once `done` holds for them, or what there is after `timeout`.
  std::vector<ReceivedSpan> WaitForSpans(
      const std::function<bool(const std::vector<ReceivedSpan>&)>& done, absl::Duration timeout);
  // Export calls answered so far (refused ones included).
  int calls();
  // Refuse every call with UNAVAILABLE from now on (false: take them again).
  void Refuse(bool refuse);
  // Answer each call with a partial success that rejects this many of its spans (0: none);
  // the others are kept.
  void RejectEach(int64_t spans);

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_TEST_RECEIVER_H_
