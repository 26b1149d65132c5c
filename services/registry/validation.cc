#include "services/registry/validation.h"

#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "granary/registry/v1/objects.pb.h"
#include "re2/re2.h"

#include "libs/catalog/rules.h"
#include "libs/transforms/view_program.h"

namespace granary::registry {
namespace {

using types::v1::ValueType;
using v1::DataSource;
using v1::Entity;
using v1::FeatureRepo;
using v1::FeatureService;
using v1::FeatureView;
using v1::FeatureViewProjection;
using v1::Field;
using v1::OnDemandFeatureView;
using v1::Permission;

// Longer is almost certainly a unit mistake (seconds for milliseconds).
constexpr int64_t kMaxTtlSeconds = int64_t{3650} * 24 * 3600;

std::string TypeName(ValueType::Enum t) {
  const std::string& name = ValueType::Enum_Name(t);
  return name.empty() ? absl::StrCat(static_cast<int>(t)) : name;
}

bool IsIdentifier(absl::string_view s) { return catalog::IsObjectName(s); }

bool IsEntityKeyType(ValueType::Enum t) {
  return t == ValueType::INT64 || t == ValueType::INT32 || t == ValueType::STRING ||
         t == ValueType::BYTES || t == ValueType::UNIX_TIMESTAMP;
}

class Validator {
 public:
  explicit Validator(const FeatureRepo& repo) : repo_(repo) {}

  std::vector<Problem> Run() {
    CheckProject();
    CheckEntities();
    CheckDataSources();
    IndexViews();
    CheckFeatureViews();
    CheckOnDemandViews();
    CheckFeatureServices();
    CheckPermissions();
    return std::move(problems_);
  }

 private:
  void Add(std::string path, std::string message) {
    problems_.push_back({std::move(path), std::move(message)});
  }

  // "feature_views[driver_hourly_stats]", or "feature_views[#3]" for an unnamed object.
  static std::string ObjectPath(absl::string_view plural, const std::string& name, int index) {
    return IsIdentifier(name) ? absl::StrCat(plural, "[", name, "]")
                              : absl::StrCat(plural, "[#", index, "]");
  }

  void CheckName(const std::string& path, const std::string& name) {
    if (name.empty()) {
      Add(absl::StrCat(path, ".name"), "required");
    } else if (!IsIdentifier(name)) {
      Add(absl::StrCat(path, ".name"),
          absl::StrCat("\"", name,
                       "\" is not a valid name (letters, digits and underscores, "
                       "not starting with a digit, at most 255)"));
    } else if (absl::StartsWith(name, "__")) {
      // Historical retrieval names the columns it joins for itself so.
      Add(absl::StrCat(path, ".name"),
          absl::StrCat("\"", name, "\": names starting with \"__\" are reserved"));
    }
  }

  // Records the name; reports a duplicate within `seen`.
  void CheckUnique(const std::string& path, const std::string& name, absl::string_view what,
                   std::set<std::string>* seen) {
    if (name.empty()) return;
    if (!seen->insert(name).second) {
      Add(absl::StrCat(path, ".name"), absl::StrCat("another ", what, " is named ", name));
    }
  }

  void CheckTags(const std::string& path,
                 const google::protobuf::Map<std::string, std::string>& tags) {
    for (const auto& [key, value] : tags) {
      if (key.empty()) Add(absl::StrCat(path, ".tags"), "a tag key must not be empty");
    }
  }

  void CheckSchema(const std::string& path, const google::protobuf::RepeatedPtrField<Field>& schema,
                   absl::string_view what) {
    if (schema.empty())
      Add(absl::StrCat(path, ".schema"), absl::StrCat("at least one ", what, " is required"));
    std::set<std::string> names;
    for (int i = 0; i < schema.size(); ++i) {
      const Field& f = schema[i];
      std::string fp = absl::StrCat(path, ".schema[", i, "]");
      CheckName(fp, f.name());
      if (!f.name().empty() && !names.insert(f.name()).second) {
        Add(absl::StrCat(fp, ".name"), absl::StrCat("duplicate ", what, " ", f.name()));
      }
      if (f.dtype() == ValueType::INVALID) {
        Add(absl::StrCat(fp, ".dtype"), absl::StrCat("a ", what, " type is required"));
      } else if (f.dtype() == ValueType::NULL_ || !ValueType::Enum_IsValid(f.dtype())) {
        Add(absl::StrCat(fp, ".dtype"),
            absl::StrCat("\"", TypeName(f.dtype()), "\" is not a ", what, " type"));
      }
      CheckTags(fp, f.tags());
    }
  }

  void CheckProject() {
    if (!repo_.has_project() || repo_.project().name().empty()) {
      Add("project.name", "required");
      return;
    }
    const std::string& name = repo_.project().name();
    if (!catalog::IsProjectName(name)) {
      Add("project.name", absl::StrCat("\"", name,
                                       "\" is not a valid project name (lower-case "
                                       "letters, digits and underscores, starting "
                                       "with a letter, at most 63)"));
    }
    CheckTags("project", repo_.project().tags());
  }

  void CheckEntities() {
    std::set<std::string> seen;
    absl::flat_hash_map<std::string, const Entity*> by_join_key;
    for (int i = 0; i < repo_.entities_size(); ++i) {
      const Entity& e = repo_.entities(i);
      std::string path = ObjectPath("entities", e.name(), i);
      CheckName(path, e.name());
      CheckUnique(path, e.name(), "entity", &seen);
      entities_.emplace(e.name(), &e);
      if (!IsIdentifier(e.join_key())) {
        Add(absl::StrCat(path, ".join_key"),
            absl::StrCat("\"", e.join_key(), "\" is not a valid column name"));
      }
      if (!IsEntityKeyType(e.value_type())) {
        Add(absl::StrCat(path, ".value_type"),
            absl::StrCat(e.value_type() == ValueType::INVALID
                             ? std::string("required")
                             : absl::StrCat("\"", TypeName(e.value_type()), "\" cannot be a key"),
                         "; one of INT64, INT32, STRING, BYTES, UNIX_TIMESTAMP"));
      }
      auto [it, inserted] = by_join_key.emplace(e.join_key(), &e);
      if (!inserted && it->second->value_type() != e.value_type()) {
        Add(absl::StrCat(path, ".value_type"),
            absl::StrCat("join key ", e.join_key(), " is ", TypeName(e.value_type()), " here but ",
                         TypeName(it->second->value_type()), " in entity ", it->second->name(),
                         "; one join key has one type"));
      }
      CheckTags(path, e.tags());
    }
  }

  void CheckDataSources() {
    std::set<std::string> seen;
    for (int i = 0; i < repo_.data_sources_size(); ++i) {
      const DataSource& s = repo_.data_sources(i);
      sources_.emplace(s.name(), &s);
    }
    for (int i = 0; i < repo_.data_sources_size(); ++i) {
      const DataSource& s = repo_.data_sources(i);
      std::string path = ObjectPath("data_sources", s.name(), i);
      CheckName(path, s.name());
      CheckUnique(path, s.name(), "data source", &seen);
      CheckTags(path, s.tags());
      for (const auto& [from, to] : s.field_mapping()) {
        if (!IsIdentifier(from) || !IsIdentifier(to)) {
          Add(absl::StrCat(path, ".field_mapping"),
              absl::StrCat("\"", from, "\" -> \"", to, "\": both must be column names"));
        }
      }
      switch (s.options_case()) {
        case DataSource::kPostgres:
          CheckPostgresSource(path, s);
          break;
        case DataSource::kPush:
          CheckPushSource(path, s);
          break;
        case DataSource::kRequest:
          CheckSchema(path + ".request", s.request().schema(), "field");
          break;
        default:
          Add(path, "one of postgres, push or request is required");
      }
    }
  }

  void CheckPostgresSource(const std::string& path, const DataSource& s) {
    const auto& pg = s.postgres();
    if (pg.table().empty() == pg.query().empty()) {
      Add(absl::StrCat(path, ".postgres"), "exactly one of table and query is required");
    }
    if (!pg.table().empty()) {
      std::vector<std::string> parts = absl::StrSplit(pg.table(), '.');
      bool ok = parts.size() <= 2;
      for (const auto& p : parts) ok = ok && IsIdentifier(p);
      if (!ok) {
        Add(absl::StrCat(path, ".postgres.table"),
            absl::StrCat("\"", pg.table(), "\" is not a table name (table or schema.table)"));
      }
    }
    if (!pg.query().empty()) {
      std::string q = absl::AsciiStrToLower(absl::StripLeadingAsciiWhitespace(pg.query()));
      if (!absl::StartsWith(q, "select") && !absl::StartsWith(q, "with")) {
        Add(absl::StrCat(path, ".postgres.query"), "must be a SELECT (or WITH ... SELECT)");
      }
    }
    if (s.timestamp_field().empty()) {
      Add(absl::StrCat(path, ".timestamp_field"),
          "required: the column with each row's event time");
    } else if (!IsIdentifier(s.timestamp_field())) {
      Add(absl::StrCat(path, ".timestamp_field"), "not a column name");
    }
    if (!s.created_timestamp_column().empty() && !IsIdentifier(s.created_timestamp_column())) {
      Add(absl::StrCat(path, ".created_timestamp_column"), "not a column name");
    }
  }

  void CheckPushSource(const std::string& path, const DataSource& s) {
    const std::string& batch = s.push().batch_source();
    std::string bp = absl::StrCat(path, ".push.batch_source");
    if (batch.empty()) {
      Add(bp, "required: the PostgreSQL source that receives pushed rows offline");
      return;
    }
    auto it = sources_.find(batch);
    if (it == sources_.end()) {
      Add(bp, absl::StrCat("no data source named ", batch));
    } else if (!it->second->has_postgres()) {
      Add(bp, absl::StrCat(batch, " is not a PostgreSQL source"));
    }
  }

  void IndexViews() {
    for (const FeatureView& fv : repo_.feature_views()) views_.emplace(fv.name(), &fv);
    for (const OnDemandFeatureView& v : repo_.on_demand_feature_views()) {
      on_demand_.emplace(v.name(), &v);
    }
  }

  void CheckFeatureViews() {
    for (int i = 0; i < repo_.feature_views_size(); ++i) {
      const FeatureView& fv = repo_.feature_views(i);
      std::string path = ObjectPath("feature_views", fv.name(), i);
      CheckName(path, fv.name());
      CheckUnique(path, fv.name(), "feature view or on-demand feature view", &view_names_);
      CheckTags(path, fv.tags());
      CheckSchema(path, fv.schema(), "feature");

      std::set<std::string> join_keys;
      for (int j = 0; j < fv.entities_size(); ++j) {
        std::string ep = absl::StrCat(path, ".entities[", j, "]");
        auto it = entities_.find(fv.entities(j));
        if (it == entities_.end()) {
          Add(ep, absl::StrCat("no entity named ", fv.entities(j)));
          continue;
        }
        if (!join_keys.insert(it->second->join_key()).second) {
          Add(ep, absl::StrCat("join key ", it->second->join_key(), " appears twice"));
        }
      }
      for (int j = 0; j < fv.schema_size(); ++j) {
        if (join_keys.count(fv.schema(j).name())) {
          Add(absl::StrCat(path, ".schema[", j, "].name"),
              absl::StrCat(fv.schema(j).name(),
                           " is a join key of the view's entities; list "
                           "the entity, not the column"));
        }
      }

      if (fv.ttl().nanos() >= 1000000000 || fv.ttl().nanos() <= -1000000000 ||
          (fv.ttl().seconds() > 0 && fv.ttl().nanos() < 0)) {
        Add(absl::StrCat(path, ".ttl"), "not a valid duration (nanos out of range)");
      } else if (fv.ttl().seconds() < 0 || fv.ttl().nanos() < 0) {
        Add(absl::StrCat(path, ".ttl"), "must not be negative (0 means no limit)");
      } else if (fv.ttl().seconds() > kMaxTtlSeconds) {
        Add(absl::StrCat(path, ".ttl"), "longer than 3650 days; is the unit right?");
      }

      const DataSource* batch = nullptr;
      std::string bp = absl::StrCat(path, ".batch_source");
      if (fv.batch_source().empty()) {
        Add(bp, "required: the PostgreSQL source with the view's history");
      } else if (auto it = sources_.find(fv.batch_source()); it == sources_.end()) {
        Add(bp, absl::StrCat("no data source named ", fv.batch_source()));
      } else if (!it->second->has_postgres()) {
        Add(bp, absl::StrCat(fv.batch_source(), " is not a PostgreSQL source"));
      } else {
        batch = it->second;
      }
      if (!fv.stream_source().empty()) {
        std::string sp = absl::StrCat(path, ".stream_source");
        auto it = sources_.find(fv.stream_source());
        if (it == sources_.end()) {
          Add(sp, absl::StrCat("no data source named ", fv.stream_source()));
        } else if (!it->second->has_push()) {
          Add(sp, absl::StrCat(fv.stream_source(), " is not a push source"));
        } else if (batch != nullptr && it->second->push().batch_source() != batch->name()) {
          Add(sp, absl::StrCat(fv.stream_source(), " writes to ", it->second->push().batch_source(),
                               " but the view reads ", batch->name(),
                               "; pushed rows would be missing from training data"));
        }
      }
    }
  }

  // Checks a projection of a (possibly on-demand) view; returns false if the view is unknown.
  void CheckProjection(const std::string& path, const FeatureViewProjection& p, bool allow_odfv) {
    std::set<std::string> features;
    if (auto it = views_.find(p.feature_view()); it != views_.end()) {
      for (const Field& f : it->second->schema()) features.insert(f.name());
    } else if (auto od = on_demand_.find(p.feature_view()); allow_odfv && od != on_demand_.end()) {
      for (const Field& f : od->second->schema()) features.insert(f.name());
    } else {
      Add(absl::StrCat(path, ".feature_view"),
          absl::StrCat(p.feature_view().empty()
                           ? std::string("required")
                           : absl::StrCat("no feature view named ", p.feature_view())));
      return;
    }
    std::set<std::string> seen;
    for (int k = 0; k < p.features_size(); ++k) {
      std::string fp = absl::StrCat(path, ".features[", k, "]");
      if (!features.count(p.features(k))) {
        Add(fp, absl::StrCat(p.feature_view(), " has no feature \"", p.features(k), "\""));
      } else if (!seen.insert(p.features(k)).second) {
        Add(fp, absl::StrCat(p.features(k), " is listed twice"));
      }
    }
    if (!p.alias().empty() && !IsIdentifier(p.alias())) {
      Add(absl::StrCat(path, ".alias"), "not a valid name");
    }
  }

  // A write-time view is computed when rows of its source are written online, and stored
  // with them: one source, a feature view served online; no request data, which is not there
  // when a source is written.
  void CheckWriteTime(const std::string& path, const OnDemandFeatureView& v) {
    const std::string mode = absl::StrCat(path, ".mode");
    int views = 0;
    for (const auto& src : v.sources()) {
      if (!src.request_source().empty()) {
        Add(mode, absl::StrCat("ON_WRITE reads no request source (", src.request_source(),
                               "): request data is not there when the source is written; "
                               "leave mode out (ON_READ) to compute at each request"));
      }
      views += src.has_feature_view() ? 1 : 0;
    }
    if (views != 1) {
      Add(mode, absl::StrCat("ON_WRITE needs exactly one source feature view, whose writes it "
                             "is computed with (it has ",
                             views, ")"));
      return;
    }
    for (const auto& src : v.sources()) {
      if (!src.has_feature_view()) continue;
      auto it = views_.find(src.feature_view().feature_view());
      if (it != views_.end() && it->second->has_online() && !it->second->online()) {
        Add(mode, absl::StrCat("ON_WRITE stores its outputs online, but its source ", it->first,
                               " is not served online (online: false)"));
      }
    }
  }

  void CheckOnDemandViews() {
    for (int i = 0; i < repo_.on_demand_feature_views_size(); ++i) {
      const OnDemandFeatureView& v = repo_.on_demand_feature_views(i);
      std::string path = ObjectPath("on_demand_feature_views", v.name(), i);
      CheckName(path, v.name());
      CheckUnique(path, v.name(), "feature view or on-demand feature view", &view_names_);
      CheckTags(path, v.tags());
      CheckSchema(path, v.schema(), "feature");
      if (v.mode() == OnDemandFeatureView::ON_WRITE) {
        CheckWriteTime(path, v);
      } else if (!OnDemandFeatureView::Mode_IsValid(v.mode())) {
        Add(absl::StrCat(path, ".mode"), "not a mode (ON_READ, ON_WRITE)");
      }
      if (v.sources().empty()) Add(absl::StrCat(path, ".sources"), "at least one is required");
      for (int j = 0; j < v.sources_size(); ++j) {
        std::string sp = absl::StrCat(path, ".sources[", j, "]");
        const auto& src = v.sources(j);
        if (src.has_feature_view()) {
          CheckProjection(sp + ".feature_view", src.feature_view(), /*allow_odfv=*/false);
        } else if (!src.request_source().empty()) {
          auto it = sources_.find(src.request_source());
          if (it == sources_.end()) {
            Add(sp + ".request_source",
                absl::StrCat("no data source named ", src.request_source()));
          } else if (!it->second->has_request()) {
            Add(sp + ".request_source",
                absl::StrCat(src.request_source(), " is not a request source"));
          }
        } else {
          Add(sp, "a feature_view or a request_source is required");
        }
      }
      // The expressions compile in the same sandbox that serving and historical retrieval run
      // them in, and read only their inputs and the sandbox's libraries.
      for (const transforms::ProgramProblem& p : transforms::ViewProgram::Check(repo_, v)) {
        Add(absl::StrCat(path, ".", p.path), p.message);
      }
    }
  }

  void CheckFeatureServices() {
    std::set<std::string> seen;
    for (int i = 0; i < repo_.feature_services_size(); ++i) {
      const FeatureService& s = repo_.feature_services(i);
      std::string path = ObjectPath("feature_services", s.name(), i);
      CheckName(path, s.name());
      CheckUnique(path, s.name(), "feature service", &seen);
      CheckTags(path, s.tags());
      if (s.features().empty()) Add(absl::StrCat(path, ".features"), "at least one is required");
      std::set<std::string> projected;
      for (int j = 0; j < s.features_size(); ++j) {
        const FeatureViewProjection& p = s.features(j);
        std::string pp = absl::StrCat(path, ".features[", j, "]");
        CheckProjection(pp, p, /*allow_odfv=*/true);
        std::string as = p.alias().empty() ? p.feature_view() : p.alias();
        if (!as.empty() && !projected.insert(as).second) {
          Add(pp, absl::StrCat(as, " is projected twice; give one projection an alias"));
        }
      }
    }
  }

  void CheckPermissions() {
    std::set<std::string> seen;
    for (int i = 0; i < repo_.permissions_size(); ++i) {
      const Permission& p = repo_.permissions(i);
      std::string path = ObjectPath("permissions", p.name(), i);
      CheckName(path, p.name());
      CheckUnique(path, p.name(), "permission", &seen);
      CheckTags(path, p.tags());
      for (int j = 0; j < p.types_size(); ++j) {
        if (p.types(j) == v1::OBJECT_KIND_UNSPECIFIED || !v1::ObjectKind_IsValid(p.types(j))) {
          Add(absl::StrCat(path, ".types[", j, "]"), "unknown object kind");
        }
      }
      for (int j = 0; j < p.name_patterns_size(); ++j) {
        RE2 re(p.name_patterns(j), RE2::Quiet);
        if (!re.ok()) {
          Add(absl::StrCat(path, ".name_patterns[", j, "]"),
              absl::StrCat("not a regular expression: ", re.error()));
        }
      }
      if (p.actions().empty()) Add(absl::StrCat(path, ".actions"), "at least one is required");
      for (int j = 0; j < p.actions_size(); ++j) {
        if (p.actions(j) == Permission::ACTION_UNSPECIFIED ||
            !Permission::Action_IsValid(p.actions(j))) {
          Add(absl::StrCat(path, ".actions[", j, "]"), "unknown action");
        }
      }
      if (p.policy().roles().empty() && p.policy().groups().empty()) {
        Add(absl::StrCat(path, ".policy"), "names no role and no group: it would grant nothing");
      }
    }
  }

  const FeatureRepo& repo_;
  absl::flat_hash_map<std::string, const Entity*> entities_;
  absl::flat_hash_map<std::string, const DataSource*> sources_;
  absl::flat_hash_map<std::string, const FeatureView*> views_;
  absl::flat_hash_map<std::string, const OnDemandFeatureView*> on_demand_;
  std::set<std::string> view_names_;
  std::vector<Problem> problems_;
};

}  // namespace

std::vector<Problem> ValidateRepo(const FeatureRepo& repo) { return Validator(repo).Run(); }

absl::Status ProblemsToStatus(const std::vector<Problem>& problems) {
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const Problem& p : problems) lines.push_back(absl::StrCat(p.path, ": ", p.message));
  return catalog::RepoProblems(lines);
}

}  // namespace granary::registry
