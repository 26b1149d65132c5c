#include "libs/transforms/program_cache.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::transforms {
namespace {

// Each program holds a Lua state of a few hundred KiB at most.
constexpr size_t kMaxProgramsPerThread = 256;

}  // namespace

absl::StatusOr<std::shared_ptr<ViewProgram>> ThreadProgram(uint64_t catalog_serial,
                                                           const registry::v1::FeatureRepo& repo,
                                                           const std::string& view) {
  thread_local std::map<std::pair<uint64_t, std::string>, std::shared_ptr<ViewProgram>> programs;
  auto key = std::make_pair(catalog_serial, view);
  if (auto it = programs.find(key); it != programs.end()) return it->second;
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() != view) continue;
    ASSIGN_OR_RETURN(std::unique_ptr<ViewProgram> program, ViewProgram::Compile(repo, od));
    if (programs.size() >= kMaxProgramsPerThread) programs.clear();
    return programs.emplace(key, std::shared_ptr<ViewProgram>(std::move(program))).first->second;
  }
  return absl::NotFoundError(absl::StrCat("on-demand feature view '", view, "' not found"));
}

}  // namespace granary::transforms
