// One unit of work in a trace, as the tracer records it: a gRPC call served, an HTTP route, a
// NATS message processed. A Span always has a context to propagate (trace ids reach logs and
// downstream services whether or not the trace is recorded); it is recorded, and handed to the
// tracer's exporter when it ends, only when its trace is sampled and tracing exports somewhere.
//
//   trace::Span span(tracer, "POST /push", trace::SpanKind::kServer, ParseTraceparent(header));
//   backend_context.AddMetadata("traceparent", span.context().Traceparent());
//   span.SetAttribute("http.response.status_code", int64_t{200});
//   // ends when destroyed, or at span.End()
#ifndef GRANARY_LIBS_TRACE_SPAN_H_
#define GRANARY_LIBS_TRACE_SPAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/trace/trace_context.h"

namespace granary::trace {

class Tracer;

// OTLP's span kinds, with its numbers.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

using AttributeValue = std::variant<std::string, int64_t, bool, double>;

// A finished span, as exporters get it.
struct SpanRecord {
  TraceContext context;
  // Absent for the root of a trace.
  std::optional<SpanId> parent_span_id;
  // The parent came from another process (a header), not from this one.
  bool parent_remote = false;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  absl::Time start;
  absl::Time end;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  // OTLP's status: unset, or an error with its message.
  bool error = false;
  std::string error_message;
};

class Span {
 public:
  // A span of `tracer` (null: nothing is recorded, the context is still made), child of
  // `parent` (a remote parent: from a header) or the root of a new trace.
  // The name is copied only when the span is recorded. A trace that starts here is sampled
  // (at the tracer's ratio) only when the tracer exports: a process that records nothing
  // does not decide that the processes after it record.
  Span(Tracer* tracer, absl::string_view name, SpanKind kind,
       const std::optional<TraceContext>& parent);
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  const TraceContext& context() const { return record_.context; }
  // Whether what is set here will be exported.
  bool recording() const { return recording_; }

  // For a name that costs something to make: make it only when recording().
  void SetName(absl::string_view name);
  void SetAttribute(absl::string_view key, AttributeValue value);
  void SetError(absl::string_view message);
  // Ends it now (later calls do nothing).
  void End();

 private:
  Tracer* tracer_;
  bool recording_;
  bool ended_ = false;
  SpanRecord record_;
};

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_SPAN_H_
