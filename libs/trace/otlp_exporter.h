// Spans to an OpenTelemetry receiver over OTLP/gRPC (opentelemetry.proto.collector.trace.v1.
// TraceService/Export), the protocol every collector and tracing backend takes. Each batch is
// one call with a deadline; it is sent once (a batch a receiver does not take is counted as
// failed by the tracer, never retried into the next one).
#ifndef GRANARY_LIBS_TRACE_OTLP_EXPORTER_H_
#define GRANARY_LIBS_TRACE_OTLP_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

#include "libs/trace/tracer.h"

namespace granary::trace {

// What OTLP calls the resource: the process the spans come from.
struct ResourceInfo {
  // "granary-serving".
  std::string service_name;
  std::string service_version;
  // Which replica: host name and pid.
  std::string instance_id;
};

// The Export request for `spans` of `resource` (one resource, one instrumentation scope).
opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest BuildExportRequest(
    const ResourceInfo& resource, const std::vector<SpanRecord>& spans);

class OtlpGrpcExporter : public SpanExporter {
 public:
  OtlpGrpcExporter(std::shared_ptr<grpc::Channel> channel, ResourceInfo resource,
                   absl::Duration timeout);
  // A channel to config.otlp_endpoint (TLS when config.otlp_tls). `timeout` bounds each call
  // within the deadline it is given.
  static std::unique_ptr<OtlpGrpcExporter> ForConfig(const TracingConfig& config,
                                                     ResourceInfo resource);

  // The spans a partial success rejected; UNAVAILABLE, DEADLINE_EXCEEDED, ... as the receiver
  // answered.
  absl::StatusOr<int64_t> Export(const std::vector<SpanRecord>& spans,
                                 absl::Time deadline) override;

 private:
  std::unique_ptr<opentelemetry::proto::collector::trace::v1::TraceService::Stub> stub_;
  const ResourceInfo resource_;
  const absl::Duration timeout_;
};

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_OTLP_EXPORTER_H_
