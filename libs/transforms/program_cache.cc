#include "libs/transforms/program_cache.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/status_macros.h"

namespace granary::transforms {
namespace {

// Each program holds a Lua state of a few hundred KiB at most.
constexpr size_t kMaxProgramsPerThread = 64;

absl::Mutex limits_mu;
SandboxLimits process_limits ABSL_GUARDED_BY(limits_mu);

}  // namespace

void SetProcessLimits(SandboxLimits limits) {
  absl::MutexLock lock(&limits_mu);
  process_limits = limits;
}

SandboxLimits ProcessLimits() {
  absl::MutexLock lock(&limits_mu);
  return process_limits;
}

SandboxLimits ReadLimits(config::Reader& root) {
  config::Reader section = root.Section("on_demand");
  SandboxLimits limits;
  limits.max_instructions =
      section.Int("max_instructions", limits.max_instructions, 10'000, 1'000'000'000);
  limits.max_memory_bytes = static_cast<size_t>(section.Bytes(
      "max_memory", static_cast<int64_t>(limits.max_memory_bytes), 64 << 10, int64_t{1} << 30));
  return limits;
}

absl::StatusOr<std::shared_ptr<ViewProgram>> ThreadProgram(uint64_t catalog_serial,
                                                           const registry::v1::FeatureRepo& repo,
                                                           const std::string& view) {
  thread_local std::map<std::pair<uint64_t, std::string>, std::shared_ptr<ViewProgram>> programs;
  auto key = std::make_pair(catalog_serial, view);
  if (auto it = programs.find(key); it != programs.end()) return it->second;
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() != view) continue;
    ASSIGN_OR_RETURN(std::unique_ptr<ViewProgram> program,
                     ViewProgram::Compile(repo, od, ProcessLimits()));
    if (programs.size() >= kMaxProgramsPerThread) programs.clear();
    return programs.emplace(key, std::shared_ptr<ViewProgram>(std::move(program))).first->second;
  }
  return absl::NotFoundError(absl::StrCat("on-demand feature view '", view, "' not found"));
}

}  // namespace granary::transforms
