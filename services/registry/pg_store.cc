#include "services/registry/pg_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/catalog/object_kinds.h"
#include "libs/pg/migrations.h"

namespace granary::registry {
namespace {

using google::protobuf::Message;
using google::protobuf::util::TimeUtil;

const std::vector<pg::Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<pg::Migration>{
      {1, "catalog", R"sql(
        -- A deleted project keeps its row (deleted = true) and its version, so that versions
        -- never go backwards, even across delete and re-create.
        CREATE TABLE registry.projects (
          name text PRIMARY KEY,
          version bigint NOT NULL,
          deleted boolean NOT NULL DEFAULT false,
          spec bytea NOT NULL,
          tags jsonb NOT NULL DEFAULT '{}',
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE registry.objects (
          project text NOT NULL REFERENCES registry.projects (name) ON DELETE CASCADE,
          kind smallint NOT NULL,
          name text NOT NULL,
          spec bytea NOT NULL,
          tags jsonb NOT NULL DEFAULT '{}',
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          created_version bigint NOT NULL,
          updated_version bigint NOT NULL,
          PRIMARY KEY (project, kind, name)
        );
        CREATE INDEX objects_tags ON registry.objects USING gin (tags);
        CREATE TABLE registry.history (
          project text NOT NULL,
          version bigint NOT NULL,
          committed_at timestamptz NOT NULL,
          caller text NOT NULL,
          comment text NOT NULL,
          diff bytea NOT NULL,
          PRIMARY KEY (project, version)
        );
        CREATE TABLE registry.materialization_intervals (
          project text NOT NULL,
          feature_view text NOT NULL,
          start_time timestamptz NOT NULL,
          end_time timestamptz NOT NULL,
          recorded_at timestamptz NOT NULL,
          job_id text NOT NULL,
          PRIMARY KEY (project, feature_view, start_time, end_time)
        );
      )sql"},
      {2, "online cleanups", R"sql(
        -- The outbox of online data to remove, written in the commit that deleted the views
        -- and removed once announced on JetStream (GRANARY_CLEANUP).
        CREATE TABLE registry.online_cleanups (
          id bigserial PRIMARY KEY,
          project text NOT NULL,
          payload bytea NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        );
      )sql"},
  };
  return *kMigrations;
}

void InsertCleanup(pqxx::work& tx, const events::v1::OnlineCleanup& cleanup) {
  tx.exec_params("INSERT INTO registry.online_cleanups (project, payload) VALUES ($1, $2)",
                 cleanup.project(), pqxx::binarystring(cleanup.SerializeAsString()));
}

// Timestamps cross the wire as integer microseconds since the epoch: exact both ways.
std::string Micros(const char* column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::bigint");
}
constexpr char kFromMicros[] = "('epoch'::timestamptz + $%d * interval '1 microsecond')";

absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

int64_t ProtoMicros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

std::string Serialize(const Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

std::string TagsJson(const std::vector<std::pair<std::string, std::string>>& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : tags) j[k] = v;
  return j.dump();
}

std::string TagsJson(const std::map<std::string, std::string>& tags) {
  return TagsJson(std::vector<std::pair<std::string, std::string>>(tags.begin(), tags.end()));
}

// The columns ReadObject expects, in order.
std::string ObjectColumns() {
  return absl::StrCat("kind, name, spec, ", Micros("created_at"), ", ", Micros("updated_at"),
                      ", created_version, updated_version");
}

absl::StatusOr<std::unique_ptr<Message>> ReadObject(const pqxx::row& row) {
  auto kind = static_cast<v1::ObjectKind>(row[0].as<int>());
  std::unique_ptr<Message> m(catalog::Prototype(kind).New());
  pqxx::binarystring spec(row[2]);
  if (!m->ParseFromArray(spec.data(), static_cast<int>(spec.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", catalog::KindName(kind), " ",
                                            row[1].as<std::string>(), " does not parse"));
  }
  v1::ObjectMeta meta;
  *meta.mutable_created_time() = base::ToProtoTime(FromMicros(row[3].as<int64_t>()));
  *meta.mutable_updated_time() = base::ToProtoTime(FromMicros(row[4].as<int64_t>()));
  meta.set_created_version(row[5].as<int64_t>());
  meta.set_updated_version(row[6].as<int64_t>());
  const auto* field = m->GetDescriptor()->FindFieldByName("meta");
  m->GetReflection()->MutableMessage(m.get(), field)->CopyFrom(meta);
  return m;
}

absl::Status ProjectNotFound(const std::string& project) {
  return absl::NotFoundError(absl::StrCat("project ", project, " not found"));
}

// NOT_FOUND unless the project exists (and is not deleted).
absl::Status RequireProject(pqxx::transaction_base& tx, const std::string& project) {
  pqxx::result r = tx.exec_params("SELECT deleted FROM registry.projects WHERE name = $1", project);
  if (r.empty() || r[0][0].as<bool>()) return ProjectNotFound(project);
  return absl::OkStatus();
}

}  // namespace

absl::Status PgStore::Migrate() {
  if (migrated_) return absl::OkStatus();
  RETURN_IF_ERROR(pg::Migrate(*pool_, "registry", Migrations()));
  migrated_ = true;
  return absl::OkStatus();
}

absl::Status PgStore::Ready() const {
  if (migrated_) return absl::OkStatus();
  return absl::UnavailableError(
      "the registry's schema is not migrated yet: PostgreSQL has not answered since the "
      "registry started");
}

absl::StatusOr<std::pair<int64_t, bool>> PgStore::Version(const std::string& project) {
  RETURN_IF_ERROR(Ready());
  std::pair<int64_t, bool> out{0, false};
  // One statement, no transaction of its own: this is what every cache polls.
  RETURN_IF_ERROR(pool_->WithConnection([&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    pqxx::result r =
        tx.exec_params("SELECT version, deleted FROM registry.projects WHERE name = $1", project);
    if (!r.empty()) out = {r[0][0].as<int64_t>(), !r[0][1].as<bool>()};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ProjectState> PgStore::Load(const std::string& project) {
  RETURN_IF_ERROR(Ready());
  ProjectState state;
  absl::Status status = pool_->WithConnection([&](pqxx::connection& conn) -> absl::Status {
    // One snapshot for both queries: the objects belong to exactly the version read.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    pqxx::result p = tx.exec_params(
        absl::StrCat("SELECT version, deleted, spec, ", Micros("updated_at"), ", ",
                     Micros("created_at"), " FROM registry.projects WHERE name = $1"),
        project);
    if (p.empty()) return absl::OkStatus();
    state.version = p[0][0].as<int64_t>();
    state.exists = !p[0][1].as<bool>();
    state.committed_time = FromMicros(p[0][3].as<int64_t>());
    state.created_time = FromMicros(p[0][4].as<int64_t>());
    if (!state.exists) return absl::OkStatus();
    pqxx::binarystring spec(p[0][2]);
    if (!state.repo.mutable_project()->ParseFromArray(spec.data(), static_cast<int>(spec.size()))) {
      return absl::DataLossError(absl::StrCat("stored project ", project, " does not parse"));
    }
    state.repo.mutable_project()->set_version(state.version);
    pqxx::result objects = tx.exec_params(absl::StrCat("SELECT ", ObjectColumns(),
                                                       " FROM registry.objects WHERE project = $1 "
                                                       "ORDER BY kind, name COLLATE \"C\""),
                                          project);
    for (const auto& row : objects) {
      ASSIGN_OR_RETURN(std::unique_ptr<Message> m, ReadObject(row));
      catalog::AddObject(&state.repo, static_cast<v1::ObjectKind>(row[0].as<int>()))->CopyFrom(*m);
    }
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return state;
}

absl::StatusOr<CommitResult> PgStore::Commit(const CommitRequest& r) {
  RETURN_IF_ERROR(Ready());
  CommitResult result;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    std::string spec = Serialize(r.project_spec);
    std::string tags = TagsJson(catalog::ObjectTags(r.project_spec));
    std::string returning = absl::StrCat(" RETURNING version, ", Micros("updated_at"));
    // Optimistic concurrency: the version moves only from the one the change was made on.
    pqxx::result bumped = tx.exec_params(
        absl::StrCat("UPDATE registry.projects SET version = version + 1, deleted = false, "
                     "spec = $2, tags = $3::jsonb, updated_at = now() "
                     "WHERE name = $1 AND version = $4",
                     returning),
        r.project, pqxx::binarystring(spec), tags, r.base_version);
    if (bumped.empty() && r.base_version == 0) {
      bumped =
          tx.exec_params(absl::StrCat("INSERT INTO registry.projects (name, version, spec, tags) "
                                      "VALUES ($1, 1, $2, $3::jsonb) ON CONFLICT (name) DO NOTHING",
                                      returning),
                         r.project, pqxx::binarystring(spec), tags);
    }
    if (bumped.empty()) {
      return absl::AbortedError(absl::StrCat("project ", r.project, " changed since version ",
                                             r.base_version, " was read; plan again"));
    }
    result.version = bumped[0][0].as<int64_t>();
    result.committed_time = FromMicros(bumped[0][1].as<int64_t>());
    for (const ObjectKey& key : r.deletes) {
      tx.exec_params("DELETE FROM registry.objects WHERE project = $1 AND kind = $2 AND name = $3",
                     r.project, static_cast<int>(key.kind), key.name);
      // A view created again later starts with no materialized history.
      if (key.kind == v1::FEATURE_VIEW) {
        tx.exec_params(
            "DELETE FROM registry.materialization_intervals WHERE project = $1 AND "
            "feature_view = $2",
            r.project, key.name);
      }
    }
    for (const auto& [kind, object] : r.upserts) {
      tx.exec_params(
          "INSERT INTO registry.objects (project, kind, name, spec, tags, created_at, "
          "updated_at, created_version, updated_version) "
          "VALUES ($1, $2, $3, $4, $5::jsonb, now(), now(), $6, $6) "
          "ON CONFLICT (project, kind, name) DO UPDATE SET spec = EXCLUDED.spec, "
          "tags = EXCLUDED.tags, updated_at = EXCLUDED.updated_at, "
          "updated_version = EXCLUDED.updated_version",
          r.project, static_cast<int>(kind), catalog::ObjectName(*object),
          pqxx::binarystring(Serialize(*object)), TagsJson(catalog::ObjectTags(*object)),
          result.version);
    }
    for (const ObjectKey& key : r.renewed) {
      tx.exec_params(
          "UPDATE registry.objects SET created_version = $4, created_at = now() "
          "WHERE project = $1 AND kind = $2 AND name = $3",
          r.project, static_cast<int>(key.kind), key.name, result.version);
    }
    tx.exec_params(
        "INSERT INTO registry.history (project, version, committed_at, caller, comment, diff) "
        "VALUES ($1, $2, now(), $3, $4, $5)",
        r.project, result.version, r.caller, r.comment, pqxx::binarystring(Serialize(r.diff)));
    if (r.cleanup.views_size() > 0) {
      events::v1::OnlineCleanup cleanup = r.cleanup;
      cleanup.set_deleted_version(result.version);
      InsertCleanup(tx, cleanup);
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<int64_t> PgStore::DeleteProject(const std::string& project,
                                               std::optional<int64_t> expected_version,
                                               const std::string& caller, const v1::Diff& diff,
                                               events::v1::OnlineCleanup cleanup) {
  RETURN_IF_ERROR(Ready());
  int64_t version = 0;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result current = tx.exec_params(
        "SELECT version, deleted FROM registry.projects WHERE name = $1 FOR UPDATE", project);
    if (current.empty() || current[0][1].as<bool>()) return ProjectNotFound(project);
    int64_t at = current[0][0].as<int64_t>();
    if (expected_version.has_value() && *expected_version != at) {
      return absl::AbortedError(
          absl::StrCat("project ", project, " is at version ", at, ", not ", *expected_version));
    }
    version = at;
    tx.exec_params("DELETE FROM registry.objects WHERE project = $1", project);
    tx.exec_params("DELETE FROM registry.materialization_intervals WHERE project = $1", project);
    // The tombstone takes the next version, so a re-created project continues after it.
    tx.exec_params(
        "UPDATE registry.projects SET deleted = true, version = $2, "
        "updated_at = now() WHERE name = $1",
        project, at + 1);
    tx.exec_params(
        "INSERT INTO registry.history (project, version, committed_at, caller, comment, diff) "
        "VALUES ($1, $2, now(), $3, 'project deleted', $4)",
        project, at + 1, caller, pqxx::binarystring(Serialize(diff)));
    if (cleanup.views_size() > 0) {
      cleanup.set_deleted_version(at + 1);
      InsertCleanup(tx, cleanup);
    }
    return absl::OkStatus();
  }));
  return version;
}

absl::StatusOr<std::vector<PendingCleanup>> PgStore::PendingCleanups(int limit) {
  RETURN_IF_ERROR(Ready());
  std::vector<PendingCleanup> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pqxx::result rows = tx.exec_params(
        "SELECT id, payload FROM registry.online_cleanups ORDER BY id LIMIT $1", limit);
    for (const auto& row : rows) {
      PendingCleanup& pending = out.emplace_back();
      pending.id = row[0].as<int64_t>();
      pqxx::binarystring payload(row[1]);
      if (!pending.cleanup.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return absl::DataLossError(absl::StrCat("online cleanup ", pending.id, " is unreadable"));
      }
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgStore::DeleteCleanup(int64_t id) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("DELETE FROM registry.online_cleanups WHERE id = $1", id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::unique_ptr<Message>>> PgStore::ListObjects(
    const std::string& project, v1::ObjectKind kind, const std::map<std::string, std::string>& tags,
    const Page& page) {
  std::vector<std::unique_ptr<Message>> out;
  RETURN_IF_ERROR(Ready());
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    RETURN_IF_ERROR(RequireProject(tx, project));
    pqxx::result rows =
        tx.exec_params(absl::StrCat("SELECT ", ObjectColumns(),
                                    " FROM registry.objects WHERE project = $1 AND kind = $2 "
                                    "AND name COLLATE \"C\" > $3 "
                                    "AND tags @> $4::jsonb ORDER BY name COLLATE \"C\" LIMIT $5"),
                       project, static_cast<int>(kind), page.after, TagsJson(tags), page.page_size);
    for (const auto& row : rows) {
      ASSIGN_OR_RETURN(std::unique_ptr<Message> m, ReadObject(row));
      out.push_back(std::move(m));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::unique_ptr<Message>> PgStore::GetObject(const std::string& project,
                                                            v1::ObjectKind kind,
                                                            const std::string& name) {
  RETURN_IF_ERROR(Ready());
  std::unique_ptr<Message> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    RETURN_IF_ERROR(RequireProject(tx, project));
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", ObjectColumns(),
                     " FROM registry.objects WHERE project = $1 AND kind = $2 AND name = $3"),
        project, static_cast<int>(kind), name);
    if (rows.empty()) {
      return absl::NotFoundError(
          absl::StrCat(catalog::KindName(kind), " ", name, " not found in project ", project));
    }
    ASSIGN_OR_RETURN(out, ReadObject(rows[0]));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::Project>> PgStore::ListProjects(
    const std::map<std::string, std::string>& tags, const Page& page) {
  std::vector<v1::Project> out;
  RETURN_IF_ERROR(Ready());
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result rows =
        tx.exec_params(absl::StrCat("SELECT name, version, spec, ", Micros("created_at"), ", ",
                                    Micros("updated_at"),
                                    " FROM registry.projects WHERE NOT deleted "
                                    "AND name COLLATE \"C\" > $1 AND tags @> $2::jsonb "
                                    "ORDER BY name COLLATE \"C\" LIMIT $3"),
                       page.after, TagsJson(tags), page.page_size);
    for (const auto& row : rows) {
      v1::Project p;
      pqxx::binarystring spec(row[2]);
      if (!p.ParseFromArray(spec.data(), static_cast<int>(spec.size()))) {
        return absl::DataLossError(
            absl::StrCat("stored project ", row[0].as<std::string>(), " does not parse"));
      }
      p.set_version(row[1].as<int64_t>());
      *p.mutable_meta()->mutable_created_time() =
          base::ToProtoTime(FromMicros(row[3].as<int64_t>()));
      *p.mutable_meta()->mutable_updated_time() =
          base::ToProtoTime(FromMicros(row[4].as<int64_t>()));
      out.push_back(std::move(p));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::HistoryEntry>> PgStore::ListHistory(const std::string& project,
                                                                   int64_t before_version,
                                                                   int page_size) {
  RETURN_IF_ERROR(Ready());
  std::vector<v1::HistoryEntry> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result exists =
        tx.exec_params("SELECT 1 FROM registry.projects WHERE name = $1", project);
    if (exists.empty()) return ProjectNotFound(project);
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT version, ", Micros("committed_at"),
                     ", caller, comment, diff FROM registry.history WHERE project = $1 "
                     "AND ($2 = 0 OR version < $2) ORDER BY version DESC LIMIT $3"),
        project, before_version, page_size);
    for (const auto& row : rows) {
      v1::HistoryEntry e;
      e.set_version(row[0].as<int64_t>());
      *e.mutable_committed_time() = base::ToProtoTime(FromMicros(row[1].as<int64_t>()));
      e.set_caller(row[2].as<std::string>());
      e.set_comment(row[3].as<std::string>());
      pqxx::binarystring diff(row[4]);
      if (!e.mutable_diff()->ParseFromArray(diff.data(), static_cast<int>(diff.size()))) {
        return absl::DataLossError(
            absl::StrCat("history of ", project, " at version ", e.version(), " does not parse"));
      }
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgStore::RecordMaterialization(const std::string& project,
                                            const std::string& feature_view,
                                            const v1::MaterializationInterval& interval) {
  RETURN_IF_ERROR(Ready());
  return pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    RETURN_IF_ERROR(RequireProject(tx, project));
    tx.exec_params(
        absl::StrCat("INSERT INTO registry.materialization_intervals (project, feature_view, "
                     "start_time, end_time, recorded_at, job_id) VALUES ($1, $2, ",
                     absl::StrFormat(kFromMicros, 3), ", ", absl::StrFormat(kFromMicros, 4),
                     ", now(), $5) ON CONFLICT DO NOTHING"),
        project, feature_view, ProtoMicros(interval.start_time()), ProtoMicros(interval.end_time()),
        interval.job_id());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::MaterializationInterval>> PgStore::MaterializationIntervals(
    const std::string& project, const std::string& feature_view) {
  RETURN_IF_ERROR(Ready());
  std::vector<v1::MaterializationInterval> out;
  RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    RETURN_IF_ERROR(RequireProject(tx, project));
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", Micros("start_time"), ", ", Micros("end_time"), ", ",
                     Micros("recorded_at"),
                     ", job_id FROM registry.materialization_intervals WHERE project = $1 "
                     "AND feature_view = $2 ORDER BY start_time, end_time"),
        project, feature_view);
    for (const auto& row : rows) {
      v1::MaterializationInterval i;
      *i.mutable_start_time() = base::ToProtoTime(FromMicros(row[0].as<int64_t>()));
      *i.mutable_end_time() = base::ToProtoTime(FromMicros(row[1].as<int64_t>()));
      *i.mutable_recorded_time() = base::ToProtoTime(FromMicros(row[2].as<int64_t>()));
      i.set_job_id(row[3].as<std::string>());
      out.push_back(std::move(i));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace granary::registry
