#include "libs/catalog/rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace granary::catalog {

bool IsObjectName(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  if (!absl::ascii_isalpha(s[0]) && s[0] != '_') return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

bool IsProjectName(absl::string_view s) {
  if (s.empty() || s.size() > 63 || !absl::ascii_islower(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

bool IsOutputOnly(const google::protobuf::FieldDescriptor* f) {
  return f->name() == "meta" || f->name() == "materialization_intervals" ||
         (f->containing_type()->full_name() == "granary.registry.v1.Project" &&
          f->name() == "version");
}

std::string ItemKey(const google::protobuf::Message& item) {
  const google::protobuf::Descriptor* d = item.GetDescriptor();
  const google::protobuf::Reflection* r = item.GetReflection();
  for (const char* key : {"alias", "name", "feature_view"}) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) continue;
    std::string value = r->GetString(item, f);
    if (!value.empty()) return value;
  }
  // An on-demand view's source: its projection (by the name it reads the view under), or its
  // request source.
  if (const auto* f = d->FindFieldByName("feature_view");
      f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
      r->HasField(item, f)) {
    return ItemKey(r->GetMessage(item, f));
  }
  if (const auto* f = d->FindFieldByName("request_source");
      f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
    return r->GetString(item, f);
  }
  return "";
}

absl::Status RepoProblems(const std::vector<std::string>& lines) {
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(lines.size(), lines.size() == 1 ? " problem" : " problems", " in the repo:\n  ",
                   absl::StrJoin(lines, "\n  ")));
}

}  // namespace granary::catalog
