#include "tools/cli/verify_tracing.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace granary::cli {

namespace otlp = ::opentelemetry::proto::collector::trace::v1;

void VerifyTracing(const trace::TracingConfig& config, VerifyReport* report) {
  if (config.otlp_endpoint.empty()) {
    report->Warn("tracing", "tracing.otlp_endpoint is empty: no span is exported",
                 "point it at an OpenTelemetry Collector's OTLP/gRPC port (4317)");
    return;
  }
  auto channel = grpc::CreateChannel(
      config.otlp_endpoint, config.otlp_tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                                            : grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  otlp::ExportTraceServiceRequest empty;
  otlp::ExportTraceServiceResponse response;
  grpc::Status status = otlp::TraceService::NewStub(channel)->Export(&context, empty, &response);
  if (!status.ok()) {
    report->Fail("tracing",
                 absl::StrCat("the OTLP receiver at ", config.otlp_endpoint,
                              " did not take an export: ", status.error_message()),
                 config.otlp_tls ? "check the address and that it serves OTLP/gRPC over TLS"
                                 : "check the address, that it serves OTLP/gRPC (4317, not the "
                                   "HTTP port 4318) and whether it wants TLS (otlp_tls: true)");
    return;
  }
  report->Pass("tracing", absl::StrCat("the OTLP receiver at ", config.otlp_endpoint,
                                       " takes spans; ", config.sample_ratio * 100,
                                       "% of the traces that start here are recorded"));
}

}  // namespace granary::cli
