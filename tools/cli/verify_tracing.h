// `granary verify`'s check of deploy.yaml's `tracing:`: the OTLP/gRPC receiver answers an
// Export (an empty one, which the protocol allows and which records nothing), so spans will
// not be dropped for want of a collector.
#ifndef GRANARY_TOOLS_CLI_VERIFY_TRACING_H_
#define GRANARY_TOOLS_CLI_VERIFY_TRACING_H_

#include "libs/trace/tracer.h"
#include "tools/cli/verify_checks.h"

namespace granary::cli {

void VerifyTracing(const trace::TracingConfig& config, VerifyReport* report);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_VERIFY_TRACING_H_
