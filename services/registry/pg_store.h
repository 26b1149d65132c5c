// The catalog in PostgreSQL, schema `registry` (see the migrations in pg_store.cc). Objects are
// stored as serialized protobuf, with their tags as jsonb for filtering. The schema is
// migrated by Migrate (when the service is built, or by the health check that first reaches
// PostgreSQL), never by a read or write: until then those answer UNAVAILABLE, never with a
// missing table.
//
//   PgStore store(pool);
//   RETURN_IF_ERROR(store.Migrate());
#ifndef GRANARY_SERVICES_REGISTRY_PG_STORE_H_
#define GRANARY_SERVICES_REGISTRY_PG_STORE_H_

#include <atomic>
#include <memory>

#include "libs/pg/pool.h"
#include "services/registry/store.h"

namespace granary::registry {

class PgStore : public Store {
 public:
  explicit PgStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  // Once migrated, a no-op. Every other method calls it first.
  absl::Status Migrate() override;
  absl::StatusOr<std::pair<int64_t, bool>> Version(const std::string& project) override;
  absl::StatusOr<ProjectState> Load(const std::string& project) override;
  absl::StatusOr<CommitResult> Commit(const CommitRequest& request) override;
  absl::StatusOr<int64_t> DeleteProject(const std::string& project,
                                        std::optional<int64_t> expected_version,
                                        const std::string& caller, const v1::Diff& diff,
                                        events::v1::OnlineCleanup cleanup) override;
  absl::StatusOr<std::vector<PendingCleanup>> PendingCleanups(int limit) override;
  absl::Status DeleteCleanup(int64_t id) override;
  absl::StatusOr<std::vector<std::unique_ptr<google::protobuf::Message>>> ListObjects(
      const std::string& project, v1::ObjectKind kind,
      const std::map<std::string, std::string>& tags, const Page& page) override;
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> GetObject(
      const std::string& project, v1::ObjectKind kind, const std::string& name) override;
  absl::StatusOr<std::vector<v1::Project>> ListProjects(
      const std::map<std::string, std::string>& tags, const Page& page) override;
  absl::StatusOr<std::vector<v1::HistoryEntry>> ListHistory(const std::string& project,
                                                            int64_t before_version,
                                                            int page_size) override;
  absl::Status RecordMaterialization(const std::string& project, const std::string& feature_view,
                                     const v1::MaterializationInterval& interval) override;
  absl::StatusOr<std::vector<v1::MaterializationInterval>> MaterializationIntervals(
      const std::string& project, const std::string& feature_view) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
  // UNAVAILABLE until Migrate succeeded.
  absl::Status Ready() const;

  std::atomic<bool> migrated_{false};
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_PG_STORE_H_
