// A server span for every gRPC call a service serves (health and reflection aside), made by a
// server interceptor so that no handler has to: its parent is the caller's `traceparent`
// metadata when there is a valid one, else it starts a trace. The interceptor then replaces
// the call's `traceparent` with this span's own, before the handler runs, so that whatever the
// handler passes on (the gateway's forwarded metadata, ingestion's NATS headers) and whatever
// it logs (TraceIdOf) names this span: the trace continues through the service without any
// handler knowing about spans.
//
//   builder.experimental().SetInterceptorCreators({..., ServerTracing(&tracer)});
//   LogWarning("...").With("trace_id", trace::TraceIdOf(*context));
#ifndef GRANARY_LIBS_TRACE_GRPC_SERVER_TRACING_H_
#define GRANARY_LIBS_TRACE_GRPC_SERVER_TRACING_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

#include "libs/trace/tracer.h"

namespace granary::trace {

// `tracer` must outlive the server. `known` says whether a path is a method the server has:
// another ("/x.Y/Z" sent by anyone) is named "unknown method", so callers cannot make span
// names at will.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerTracing(
    Tracer* tracer, std::function<bool(absl::string_view path)> known);

// The call's `traceparent` as its handler sees it (this service's span when ServerTracing
// runs); empty when there is none.
absl::string_view TraceparentOf(const grpc::ServerContextBase& context);
// Its trace id in hex, for log lines; empty when there is none.
std::string TraceIdOf(const grpc::ServerContextBase& context);

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_GRPC_SERVER_TRACING_H_
