// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header that
// carries a trace across processes, on gRPC metadata, HTTP headers and NATS message headers.
//
//   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//                ^  ^ trace id (16 bytes)             ^ parent span id  ^ flags (01: sampled)
//
//   std::optional<TraceContext> parent = ParseTraceparent(header);   // nullopt when malformed
//   TraceContext mine = ChildOf(parent, /*sample_ratio=*/0.1);       // new span id
//   outgoing.Set("traceparent", mine.Traceparent());
#ifndef GRANARY_LIBS_TRACE_TRACE_CONTEXT_H_
#define GRANARY_LIBS_TRACE_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace granary::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// The header's name, as gRPC metadata, HTTP and NATS headers carry it (lower case).
inline constexpr absl::string_view kTraceparentHeader = "traceparent";

struct TraceContext {
  TraceId trace_id{};
  SpanId span_id{};
  // Flag 01: the trace is recorded; every process on its path records its spans too.
  bool sampled = false;

  // 32 lower-case hex digits: what log and audit lines carry as trace_id.
  std::string TraceIdHex() const;
  std::string SpanIdHex() const;
  // The header value naming this span as the parent of whatever receives it (version 00).
  std::string Traceparent() const;
};

// The context a `traceparent` value carries, or nullopt when it is malformed in any way the
// specification says to ignore it: wrong length or separators, upper-case or non-hex digits,
// version ff, an all-zero trace or span id. Versions above 00 are read as 00 (their extra
// fields are dropped), as the specification asks.
std::optional<TraceContext> ParseTraceparent(absl::string_view value);

// The trace id of a `traceparent` value, in hex; empty when the value is malformed.
std::string TraceIdOf(absl::string_view traceparent);

// A new random, non-zero span id.
SpanId NewSpanId();
// A new random, non-zero trace id.
TraceId NewTraceId();

// Whether a trace that starts here is recorded, at `ratio` (0 to 1): decided from the trace
// id's last 8 bytes, so every process given the same ratio decides alike for the same trace.
bool SampledAtRatio(const TraceId& trace_id, double ratio);

// The context of a new span: in `parent`'s trace and sampled as it is; without a parent, a new
// trace, sampled at `sample_ratio`.
TraceContext ChildOf(const std::optional<TraceContext>& parent, double sample_ratio);

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_TRACE_CONTEXT_H_
