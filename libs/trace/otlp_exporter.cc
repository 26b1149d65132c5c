#include "libs/trace/otlp_exporter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

#include "libs/base/grpc_status.h"
#include "libs/base/version.h"

namespace granary::trace {
namespace {

namespace otlp_common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;
namespace otlp_collector = ::opentelemetry::proto::collector::trace::v1;

void AddString(google::protobuf::RepeatedPtrField<otlp_common::KeyValue>* out,
               const std::string& key, const std::string& value) {
  otlp_common::KeyValue* kv = out->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void SetValue(const AttributeValue& value, otlp_common::AnyValue* out) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    out->set_string_value(*s);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    out->set_int_value(*i);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out->set_bool_value(*b);
  } else {
    out->set_double_value(std::get<double>(value));
  }
}

std::string Bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

uint64_t UnixNanos(absl::Time t) { return static_cast<uint64_t>(absl::ToUnixNanos(t)); }

// Span.flags: bits 0-7 the W3C flags; bit 8 "whether the parent is remote is known", bit 9
// "it is remote".
constexpr uint32_t kHasIsRemote = 0x100;
constexpr uint32_t kIsRemote = 0x200;

void ToProto(const SpanRecord& span, otlp_trace::Span* out) {
  out->set_trace_id(Bytes(span.context.trace_id.data(), span.context.trace_id.size()));
  out->set_span_id(Bytes(span.context.span_id.data(), span.context.span_id.size()));
  uint32_t flags = (span.context.sampled ? 0x01 : 0x00) | kHasIsRemote;
  if (span.parent_span_id) {
    out->set_parent_span_id(Bytes(span.parent_span_id->data(), span.parent_span_id->size()));
    if (span.parent_remote) flags |= kIsRemote;
  }
  out->set_flags(flags);
  out->set_name(span.name);
  out->set_kind(static_cast<otlp_trace::Span::SpanKind>(static_cast<int>(span.kind)));
  out->set_start_time_unix_nano(UnixNanos(span.start));
  out->set_end_time_unix_nano(UnixNanos(span.end));
  for (const auto& [key, value] : span.attributes) {
    otlp_common::KeyValue* kv = out->add_attributes();
    kv->set_key(key);
    SetValue(value, kv->mutable_value());
  }
  if (span.error) {
    out->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_ERROR);
    out->mutable_status()->set_message(span.error_message);
  }
}

}  // namespace

otlp_collector::ExportTraceServiceRequest BuildExportRequest(const ResourceInfo& resource,
                                                             const std::vector<SpanRecord>& spans) {
  otlp_collector::ExportTraceServiceRequest request;
  otlp_trace::ResourceSpans* resource_spans = request.add_resource_spans();
  auto* attributes = resource_spans->mutable_resource()->mutable_attributes();
  AddString(attributes, "service.name", resource.service_name);
  AddString(attributes, "service.namespace", "granary");
  AddString(attributes, "service.version", resource.service_version);
  AddString(attributes, "service.instance.id", resource.instance_id);
  otlp_trace::ScopeSpans* scope_spans = resource_spans->add_scope_spans();
  scope_spans->mutable_scope()->set_name("granary");
  scope_spans->mutable_scope()->set_version(base::kVersion);
  scope_spans->mutable_spans()->Reserve(static_cast<int>(spans.size()));
  for (const SpanRecord& span : spans) ToProto(span, scope_spans->add_spans());
  return request;
}

OtlpGrpcExporter::OtlpGrpcExporter(std::shared_ptr<grpc::Channel> channel, ResourceInfo resource,
                                   absl::Duration timeout)
    : stub_(otlp_collector::TraceService::NewStub(std::move(channel))),
      resource_(std::move(resource)),
      timeout_(timeout) {}

std::unique_ptr<OtlpGrpcExporter> OtlpGrpcExporter::ForConfig(const TracingConfig& config,
                                                              ResourceInfo resource) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      config.otlp_tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                      : grpc::InsecureChannelCredentials();
  return std::make_unique<OtlpGrpcExporter>(grpc::CreateChannel(config.otlp_endpoint, credentials),
                                            std::move(resource), config.export_timeout);
}

absl::StatusOr<int64_t> OtlpGrpcExporter::Export(const std::vector<SpanRecord>& spans,
                                                 absl::Time deadline) {
  otlp_collector::ExportTraceServiceRequest request = BuildExportRequest(resource_, spans);
  otlp_collector::ExportTraceServiceResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + timeout_)));
  absl::Status status = base::FromGrpcStatus(stub_->Export(&context, request, &response));
  if (!status.ok()) return status;
  return response.has_partial_success() ? response.partial_success().rejected_spans() : 0;
}

}  // namespace granary::trace
