// Where the catalog is kept: per project a monotonic version, the objects (each with its
// created/updated bookkeeping), the history of every commit, and materialization intervals.
// The registry's logic talks to this interface; PgStore keeps it in PostgreSQL.
//
// Commits are optimistic: Commit succeeds only if the project is still at the version the
// change was computed against, so concurrent applies never lose an update and no lock is held
// while a diff is computed.
#ifndef GRANARY_SERVICES_REGISTRY_STORE_H_
#define GRANARY_SERVICES_REGISTRY_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "granary/events/v1/events.pb.h"
#include "granary/registry/v1/diff.pb.h"
#include "granary/registry/v1/registry_service.pb.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::registry {

// A project as stored: its version and (unless it does not exist) its catalog.
struct ProjectState {
  // 0 when the project was never created. A deleted project keeps its version, so that a
  // re-created project continues from it and caches never see a version go backwards.
  int64_t version = 0;
  bool exists = false;
  absl::Time committed_time = absl::UnixEpoch();
  absl::Time created_time = absl::UnixEpoch();
  // Normalized objects, each with its meta filled; the project's own spec too.
  v1::FeatureRepo repo;
};

struct ObjectKey {
  v1::ObjectKind kind;
  std::string name;
};

struct CommitRequest {
  std::string project;
  // The version the change was computed against.
  int64_t base_version = 0;
  // The project's spec after the change.
  v1::Project project_spec;
  // Objects created or changed (normalized, meta cleared), and objects deleted.
  std::vector<std::pair<v1::ObjectKind, const google::protobuf::Message*>> upserts;
  std::vector<ObjectKey> deletes;
  // Changed objects that start a new incarnation (created_version = this commit's version):
  // write-time on-demand views whose outputs change, so that what was stored for the old
  // definition is never served as the new one's.
  std::vector<ObjectKey> renewed;
  // History.
  std::string caller;
  std::string comment;
  v1::Diff diff;
  // The online data of the feature views it deletes, to be removed: kept with the commit
  // (deleted_version filled in), for the registry to announce (PendingCleanups). No views:
  // nothing to remove.
  events::v1::OnlineCleanup cleanup;
};

// An online cleanup committed and not yet announced.
struct PendingCleanup {
  int64_t id = 0;
  events::v1::OnlineCleanup cleanup;
};

struct CommitResult {
  int64_t version = 0;
  absl::Time committed_time;
};

struct Page {
  int page_size = 100;
  // Names after this one (exclusive); empty starts at the beginning.
  std::string after;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates or upgrades the schema; idempotent (cheap once done), safe with several
  // registries at once.
  virtual absl::Status Migrate() = 0;

  // The project's version (0 if never created) and whether it exists. Cheap.
  virtual absl::StatusOr<std::pair<int64_t, bool>> Version(const std::string& project) = 0;
  // Version, objects and project spec, read consistently.
  virtual absl::StatusOr<ProjectState> Load(const std::string& project) = 0;
  // ABORTED when the project moved past request.base_version.
  virtual absl::StatusOr<CommitResult> Commit(const CommitRequest& request) = 0;
  // Deletes the project's objects and marks it deleted, recording `diff` in the history.
  // Returns the version the project had. NOT_FOUND if it does not exist; ABORTED if it is not
  // at expected_version.
  virtual absl::StatusOr<int64_t> DeleteProject(const std::string& project,
                                                std::optional<int64_t> expected_version,
                                                const std::string& caller, const v1::Diff& diff,
                                                events::v1::OnlineCleanup cleanup) = 0;

  // Cleanups committed and not yet announced, oldest first; and forgetting one announced.
  virtual absl::StatusOr<std::vector<PendingCleanup>> PendingCleanups(int limit) = 0;
  virtual absl::Status DeleteCleanup(int64_t id) = 0;

  // Objects of one kind, ordered by name, carrying all of `tags`. NOT_FOUND for an unknown
  // project. Each message has its meta filled.
  virtual absl::StatusOr<std::vector<std::unique_ptr<google::protobuf::Message>>> ListObjects(
      const std::string& project, v1::ObjectKind kind,
      const std::map<std::string, std::string>& tags, const Page& page) = 0;
  // NOT_FOUND naming the object (or the project).
  virtual absl::StatusOr<std::unique_ptr<google::protobuf::Message>> GetObject(
      const std::string& project, v1::ObjectKind kind, const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<v1::Project>> ListProjects(
      const std::map<std::string, std::string>& tags, const Page& page) = 0;

  // Newest first, versions below `before_version` (0: from the newest).
  virtual absl::StatusOr<std::vector<v1::HistoryEntry>> ListHistory(const std::string& project,
                                                                    int64_t before_version,
                                                                    int page_size) = 0;

  // Recording the same interval twice stores it once.
  virtual absl::Status RecordMaterialization(const std::string& project,
                                             const std::string& feature_view,
                                             const v1::MaterializationInterval& interval) = 0;
  virtual absl::StatusOr<std::vector<v1::MaterializationInterval>> MaterializationIntervals(
      const std::string& project, const std::string& feature_view) = 0;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_STORE_H_
