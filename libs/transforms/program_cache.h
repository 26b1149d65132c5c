// Compiled on-demand views of the calling thread: each thread compiles a view once per catalog
// (a LuaSandbox is single-threaded, and a thread of its own needs no lock on the request path),
// and again when the catalog it came from is replaced. A thread that holds too many starts over,
// so the cache stays small whatever the catalogs.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<ViewProgram> program,
//                    ThreadProgram(catalog_serial, repo, "transformed"));
#ifndef GRANARY_LIBS_TRANSFORMS_PROGRAM_CACHE_H_
#define GRANARY_LIBS_TRANSFORMS_PROGRAM_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "granary/registry/v1/repo.pb.h"

#include "libs/transforms/view_program.h"

namespace granary::transforms {

// The program of on-demand view `view` of `repo`, compiled by this thread for the catalog
// `catalog_serial` identifies (a serial that changes whenever the repo does). NOT_FOUND when
// `repo` has no such view; compile errors as ViewProgram::Compile's (a repo the registry accepted
// compiles). Use it on this thread only; it stays valid however the cache changes.
absl::StatusOr<std::shared_ptr<ViewProgram>> ThreadProgram(uint64_t catalog_serial,
                                                           const registry::v1::FeatureRepo& repo,
                                                           const std::string& view);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_PROGRAM_CACHE_H_
