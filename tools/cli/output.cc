#include "tools/cli/output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "granary/registry/v1/objects.pb.h"

namespace granary::cli {
namespace {

using registry::v1::ChangeType;
namespace v1 = registry::v1;

const char* Mark(ChangeType change) {
  switch (change) {
    case v1::CREATE:
      return "+";
    case v1::DELETE:
      return "-";
    default:
      return "~";
  }
}

std::string Tags(const google::protobuf::Message& m) {
  std::vector<std::string> tags;
  for (const auto& [k, v] : catalog::ObjectTags(m)) tags.push_back(absl::StrCat(k, "=", v));
  std::sort(tags.begin(), tags.end());
  return absl::StrJoin(tags, ",");
}

std::string Ttl(const google::protobuf::Duration& d) {
  if (d.seconds() == 0 && d.nanos() == 0) return "none";
  return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

}  // namespace

void PrintDiff(const v1::Diff& diff, std::ostream& out) {
  for (const v1::ObjectChange& c : diff.changes()) {
    out << "  " << Mark(c.change()) << " " << catalog::KindName(c.kind()) << " " << c.name()
        << (c.breaking() ? "   [breaking]" : "") << "\n";
    for (const v1::FieldChange& f : c.fields()) {
      out << "      " << f.path() << ": " << (f.old_value().empty() ? "(none)" : f.old_value())
          << " -> " << (f.new_value().empty() ? "(none)" : f.new_value())
          << (f.breaking() ? "   [breaking]" : "") << "\n";
    }
    for (const std::string& reason : c.breaking_reasons()) {
      out << "      ! " << reason << "\n";
    }
  }
}

std::string DiffCounts(const v1::Diff& diff) {
  int created = 0, updated = 0, deleted = 0;
  for (const auto& c : diff.changes()) {
    if (c.change() == v1::CREATE) ++created;
    if (c.change() == v1::UPDATE) ++updated;
    if (c.change() == v1::DELETE) ++deleted;
  }
  return absl::StrCat(created, " to create, ", updated, " to update, ", deleted, " to delete");
}

int BreakingCount(const v1::Diff& diff) {
  int n = 0;
  for (const auto& c : diff.changes()) n += c.breaking() ? 1 : 0;
  return n;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a valid message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

std::vector<std::string> ListHeader(catalog::ObjectKind kind) {
  switch (kind) {
    case v1::PROJECT:
      return {"NAME", "VERSION", "OWNER", "DESCRIPTION"};
    case v1::ENTITY:
      return {"NAME", "JOIN_KEY", "TYPE", "TAGS"};
    case v1::DATA_SOURCE:
      return {"NAME", "KIND", "SOURCE", "TAGS"};
    case v1::FEATURE_VIEW:
      return {"NAME", "ENTITIES", "FEATURES", "TTL", "ONLINE", "TAGS"};
    case v1::ON_DEMAND_FEATURE_VIEW:
      return {"NAME", "SOURCES", "FEATURES", "TAGS"};
    case v1::FEATURE_SERVICE:
      return {"NAME", "FEATURES", "TAGS"};
    case v1::PERMISSION:
      return {"NAME", "TYPES", "ACTIONS", "POLICY"};
    default:
      return {"NAME"};
  }
}

std::vector<std::string> ListRow(catalog::ObjectKind kind, const google::protobuf::Message& m) {
  std::string name = catalog::ObjectName(m);
  switch (kind) {
    case v1::PROJECT: {
      const auto& p = static_cast<const v1::Project&>(m);
      return {name, absl::StrCat(p.version()), p.owner(), p.description()};
    }
    case v1::ENTITY: {
      const auto& e = static_cast<const v1::Entity&>(m);
      return {name, e.join_key(), types::v1::ValueType::Enum_Name(e.value_type()), Tags(m)};
    }
    case v1::DATA_SOURCE: {
      const auto& s = static_cast<const v1::DataSource&>(m);
      if (s.has_postgres()) {
        return {name, "postgres", s.postgres().table().empty() ? "(query)" : s.postgres().table(),
                Tags(m)};
      }
      if (s.has_push()) return {name, "push", "-> " + s.push().batch_source(), Tags(m)};
      return {name, "request", absl::StrCat(s.request().schema_size(), " fields"), Tags(m)};
    }
    case v1::FEATURE_VIEW: {
      const auto& v = static_cast<const v1::FeatureView&>(m);
      return {name,         absl::StrJoin(v.entities(), ","), absl::StrCat(v.schema_size()),
              Ttl(v.ttl()), v.online() ? "yes" : "no",        Tags(m)};
    }
    case v1::ON_DEMAND_FEATURE_VIEW: {
      const auto& v = static_cast<const v1::OnDemandFeatureView&>(m);
      std::vector<std::string> sources;
      for (const auto& s : v.sources()) {
        sources.push_back(s.has_feature_view() ? s.feature_view().feature_view()
                                               : s.request_source());
      }
      return {name, absl::StrJoin(sources, ","), absl::StrCat(v.schema_size()), Tags(m)};
    }
    case v1::FEATURE_SERVICE: {
      const auto& s = static_cast<const v1::FeatureService&>(m);
      std::vector<std::string> parts;
      for (const auto& p : s.features()) {
        parts.push_back(p.features().empty() ? absl::StrCat(p.feature_view(), ":*")
                                             : absl::StrCat(p.feature_view(), ":",
                                                            absl::StrJoin(p.features(), "+")));
      }
      return {name, absl::StrJoin(parts, " "), Tags(m)};
    }
    case v1::PERMISSION: {
      const auto& p = static_cast<const v1::Permission&>(m);
      std::vector<std::string> types, actions, policy;
      for (int t : p.types()) types.push_back(v1::ObjectKind_Name(t));
      for (int a : p.actions()) actions.push_back(v1::Permission::Action_Name(a));
      for (const auto& r : p.policy().roles()) policy.push_back("role:" + r);
      for (const auto& g : p.policy().groups()) policy.push_back("group:" + g);
      return {name, types.empty() ? "*" : absl::StrJoin(types, ","), absl::StrJoin(actions, ","),
              absl::StrJoin(policy, ",")};
    }
    default:
      return {name};
  }
}

}  // namespace granary::cli
