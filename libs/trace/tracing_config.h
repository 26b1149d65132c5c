// Reads a `tracing:` section (TracingConfig, libs/trace/tracer.h): every service's
// `server.tracing`, and deploy.yaml's `tracing`, which granary deploy writes into them.
//
//   tracing: {otlp_endpoint: otel-collector:4317, otlp_tls: false, sample_ratio: 0.1,
//             export_interval: 5s, max_batch: 512, max_queue: 2048, export_timeout: 10s}
#ifndef GRANARY_LIBS_TRACE_TRACING_CONFIG_H_
#define GRANARY_LIBS_TRACE_TRACING_CONFIG_H_

#include "libs/config/reader.h"
#include "libs/trace/tracer.h"

namespace granary::trace {

// Problems are recorded in the reader (reported by its Finish).
TracingConfig ReadTracingConfig(config::Reader section);

}  // namespace granary::trace

#endif  // GRANARY_LIBS_TRACE_TRACING_CONFIG_H_
