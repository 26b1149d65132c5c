// Names the calling thread (its comm, what `top -H`, /proc/<pid>/task/*/comm and the
// benchmarks' per-thread figures show), so that a service's threads can be told apart:
// "redis-read", "grpc-queue", "compute". Linux keeps 15 characters; the rest is cut.
#ifndef GRANARY_LIBS_BASE_THREAD_NAME_H_
#define GRANARY_LIBS_BASE_THREAD_NAME_H_

#include "absl/strings/string_view.h"

namespace granary::base {

void NameThisThread(absl::string_view name);

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_THREAD_NAME_H_
