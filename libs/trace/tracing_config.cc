#include "libs/trace/tracing_config.h"

#include <string>

namespace granary::trace {

TracingConfig ReadTracingConfig(config::Reader section) {
  TracingConfig c;
  c.otlp_endpoint = section.String("otlp_endpoint", "");
  if (!c.otlp_endpoint.empty() && c.otlp_endpoint.find(':') == std::string::npos) {
    section.AddError("otlp_endpoint",
                     "host:port of an OTLP/gRPC receiver (e.g. otel-collector:4317)");
  }
  c.otlp_tls = section.Bool("otlp_tls", c.otlp_tls);
  c.sample_ratio = section.Double("sample_ratio", c.sample_ratio, 0.0, 1.0);
  c.export_interval = section.Duration("export_interval", c.export_interval, absl::Milliseconds(10),
                                       absl::Minutes(5));
  c.max_batch = static_cast<int>(section.Int("max_batch", c.max_batch, 1, 1 << 16));
  c.max_queue = static_cast<int>(section.Int("max_queue", c.max_queue, 1, 1 << 20));
  if (c.max_queue < c.max_batch) section.AddError("max_queue", "at least max_batch");
  c.export_timeout = section.Duration("export_timeout", c.export_timeout, absl::Milliseconds(10),
                                      absl::Minutes(5));
  return c;
}

}  // namespace granary::trace
