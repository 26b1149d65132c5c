#include "services/registry/cleanup_announcer.h"

#include "absl/strings/str_cat.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"

namespace granary::registry {

absl::Status CleanupAnnouncer::AnnounceAll() {
  while (true) {
    ASSIGN_OR_RETURN(std::vector<PendingCleanup> pending, store_->PendingCleanups(100));
    if (pending.empty()) return absl::OkStatus();
    for (const PendingCleanup& p : pending) {
      RETURN_IF_ERROR(publisher_
                          ->Publish(absl::StrCat("granary.cleanup.", p.cleanup.project()),
                                    p.cleanup.SerializeAsString(),
                                    absl::StrCat("cleanup/", p.cleanup.project(), "/", p.id))
                          .status());
      RETURN_IF_ERROR(store_->DeleteCleanup(p.id));
      base::LogInfo("announced the online cleanup of deleted feature views")
          .With("project", p.cleanup.project())
          .With("views", p.cleanup.views_size())
          .With("deleted_version", p.cleanup.deleted_version());
    }
  }
}

}  // namespace granary::registry
