#include "libs/trace/span.h"

#include "libs/trace/tracer.h"

namespace granary::trace {

Span::Span(Tracer* tracer, absl::string_view name, SpanKind kind,
           const std::optional<TraceContext>& parent)
    : tracer_(tracer) {
  const bool exporting = tracer != nullptr && tracer->exporting();
  record_.context = ChildOf(parent, exporting ? tracer->sample_ratio() : 0.0);
  recording_ = exporting && record_.context.sampled;
  if (!recording_) return;
  if (parent) {
    record_.parent_span_id = parent->span_id;
    record_.parent_remote = true;
  }
  record_.name = std::string(name);
  record_.kind = kind;
  record_.start = absl::Now();
}

void Span::SetName(absl::string_view name) {
  if (recording_) record_.name = std::string(name);
}

void Span::SetAttribute(absl::string_view key, AttributeValue value) {
  if (!recording_) return;
  record_.attributes.emplace_back(std::string(key), std::move(value));
}

void Span::SetError(absl::string_view message) {
  if (!recording_) return;
  record_.error = true;
  record_.error_message = std::string(message);
}

void Span::End() {
  if (ended_) return;
  ended_ = true;
  if (!recording_) return;
  record_.end = absl::Now();
  tracer_->Finish(std::move(record_));
}

}  // namespace granary::trace
