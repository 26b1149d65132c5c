#include "libs/trace/grpc_server_tracing.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/base/grpc_status.h"
#include "libs/trace/span.h"
#include "libs/trace/trace_context.h"

namespace granary::trace {
namespace {

absl::string_view View(grpc::string_ref s) { return absl::string_view(s.data(), s.size()); }

// Codes that mean the server failed (OpenTelemetry's RPC conventions); the others (NOT_FOUND,
// INVALID_ARGUMENT, PERMISSION_DENIED, ...) are the caller's, and leave the span's status unset.
bool ServerError(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

class TracingInterceptor : public grpc::experimental::Interceptor {
 public:
  // `method`: the call's path when the server has that method, else empty.
  TracingInterceptor(Tracer* tracer, absl::string_view method) : tracer_(tracer), method_(method) {}

  // A call that ends without a status (the client went away) ends its span as cancelled.
  ~TracingInterceptor() override {
    if (span_) {
      span_->SetAttribute("rpc.grpc.status_code", int64_t{grpc::StatusCode::CANCELLED});
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Begin(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && span_) {
      grpc::Status status = methods->GetSendStatus();
      span_->SetAttribute("rpc.grpc.status_code", int64_t{status.error_code()});
      if (ServerError(status.error_code())) {
        span_->SetError(absl::StrCat(base::StatusCodeName(static_cast<int>(status.error_code())),
                                     ": ", status.error_message()));
      }
      span_->End();
      span_.reset();
    }
    methods->Proceed();
  }

 private:
  void Begin(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    if (metadata == nullptr || span_) return;
    std::optional<TraceContext> parent;
    auto found =
        metadata->find(grpc::string_ref(kTraceparentHeader.data(), kTraceparentHeader.size()));
    if (found != metadata->end()) parent = ParseTraceparent(View(found->second));
    span_.emplace(tracer_, method_.empty() ? "unknown method" : method_, SpanKind::kServer, parent);
    if (span_->recording() && !method_.empty()) {
      // "/package.Service/Method"
      std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(absl::StripPrefix(method_, "/"), absl::MaxSplits('/', 1));
      span_->SetAttribute("rpc.system", std::string("grpc"));
      span_->SetAttribute("rpc.service", std::string(parts.first));
      span_->SetAttribute("rpc.method", std::string(parts.second));
    }
    // The handler sees this span as the parent of what it does. The string lives in this
    // interceptor, which lives as long as the call.
    traceparent_ = span_->context().Traceparent();
    metadata->erase(grpc::string_ref(kTraceparentHeader.data(), kTraceparentHeader.size()));
    metadata->emplace(grpc::string_ref(kTraceparentHeader.data(), kTraceparentHeader.size()),
                      grpc::string_ref(traceparent_));
  }

  Tracer* const tracer_;
  const absl::string_view method_;
  std::optional<Span> span_;
  std::string traceparent_;
};

class TracingInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  TracingInterceptorFactory(Tracer* tracer, std::function<bool(absl::string_view)> known)
      : tracer_(tracer), known_(std::move(known)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    absl::string_view method = info->method() != nullptr ? info->method() : "";
    // Probes, not work: a span per health check would bury the traces worth reading.
    if (absl::StartsWith(method, "/grpc.health.") ||
        absl::StartsWith(method, "/grpc.reflection.")) {
      return nullptr;
    }
    return new TracingInterceptor(tracer_, known_(method) ? method : absl::string_view());
  }

 private:
  Tracer* const tracer_;
  const std::function<bool(absl::string_view)> known_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerTracing(
    Tracer* tracer, std::function<bool(absl::string_view path)> known) {
  return std::make_unique<TracingInterceptorFactory>(tracer, std::move(known));
}

absl::string_view TraceparentOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto found =
      metadata.find(grpc::string_ref(kTraceparentHeader.data(), kTraceparentHeader.size()));
  return found == metadata.end() ? absl::string_view() : View(found->second);
}

std::string TraceIdOf(const grpc::ServerContextBase& context) {
  return trace::TraceIdOf(TraceparentOf(context));
}

}  // namespace granary::trace
