#include "services/serving/entity_keys.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"

namespace granary::serving {
namespace {

using types::v1::Value;
using types::v1::ValueType;

std::string Describe(const Value& v) {
  switch (v.val_case()) {
    case Value::VAL_NOT_SET:
      return "an empty value";
    case Value::kNullVal:
      return "a null";
    default:
      return absl::StrCat("a ", ValueType::Enum_Name(keys::TypeOf(v)), " value");
  }
}

}  // namespace

absl::Status EntityKeys::Build(const ReadPlan& plan, const EntityColumns& entities,
                               size_t max_rows) {
  // Every column must be a join key of the request, and every join key a column.
  for (const auto& [name, column] : entities) {
    if (plan.join_key_index.find(name) == plan.join_key_index.end()) {
      std::vector<std::string> expected;
      for (const JoinKey& k : plan.join_keys) expected.push_back(k.name);
      return absl::InvalidArgumentError(
          absl::StrCat("entities.", name, ": not a join key of the requested features (they need: ",
                       expected.empty() ? "none" : absl::StrJoin(expected, ", "), ")"));
    }
  }
  columns_.clear();
  rows_ = plan.join_keys.empty() ? 1 : 0;
  for (size_t k = 0; k < plan.join_keys.size(); ++k) {
    const JoinKey& key = plan.join_keys[k];
    auto it = entities.find(key.name);
    if (it == entities.end()) {
      return absl::InvalidArgumentError(absl::StrCat("entities: missing join key '", key.name,
                                                     "' (of entity '", key.entity, "')"));
    }
    size_t n = static_cast<size_t>(it->second.val_size());
    if (k == 0) {
      rows_ = n;
    } else if (n != rows_) {
      return absl::InvalidArgumentError(absl::StrCat("entities.", key.name, ": ", n,
                                                     " values, but entities.",
                                                     plan.join_keys[0].name, " has ", rows_));
    }
    columns_.push_back(&it->second);
  }
  if (rows_ == 0) return absl::InvalidArgumentError("entities: no entity rows");
  if (rows_ > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entities: ", rows_, " rows, more than this server's limit of ", max_rows, " per request"));
  }

  // Each join key's value bytes per row, checked once and reused by every group.
  std::vector<std::string> encoded(plan.join_keys.size());
  std::vector<std::vector<uint32_t>> ends(plan.join_keys.size());
  Value scratch;
  for (size_t k = 0; k < plan.join_keys.size(); ++k) {
    const JoinKey& key = plan.join_keys[k];
    ends[k].reserve(rows_);
    for (size_t row = 0; row < rows_; ++row) {
      const Value& value = columns_[k]->val(static_cast<int>(row));
      const Value* typed = keys::CoerceKeyValue(value, key.type, &scratch);
      if (typed == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("entities.", key.name, "[", row, "]: entity '", key.entity, "' has ",
                         ValueType::Enum_Name(key.type), " keys; got ", Describe(value)));
      }
      RETURN_IF_ERROR(keys::AppendKeyValue(*typed, &encoded[k]));
      ends[k].push_back(static_cast<uint32_t>(encoded[k].size()));
    }
  }
  static const std::string kDummyValue = [] {
    std::string out;
    Value empty;
    empty.set_string_val("");
    (void)keys::AppendKeyValue(empty, &out);
    return out;
  }();

  // The keys, row-major, into one buffer; views into it once it no longer moves.
  const size_t groups = plan.groups.size();
  std::vector<size_t> key_ends;
  key_ends.reserve(rows_ * groups);
  buffer_.clear();
  for (size_t row = 0; row < rows_; ++row) {
    for (const KeyGroup& group : plan.groups) {
      buffer_ += group.key_prefix;
      if (group.join_keys.empty()) buffer_ += kDummyValue;
      for (int k : group.join_keys) {
        size_t begin = row == 0 ? 0 : ends[k][row - 1];
        buffer_.append(encoded[k], begin, ends[k][row] - begin);
      }
      buffer_ += plan.project;
      key_ends.push_back(buffer_.size());
    }
  }
  gets_.clear();
  gets_.reserve(key_ends.size());
  size_t begin = 0;
  for (size_t i = 0; i < key_ends.size(); ++i) {
    const KeyGroup& group = plan.groups[i % groups];
    gets_.push_back({absl::string_view(buffer_).substr(begin, key_ends[i] - begin), &group.fields,
                     &group.encoded_fields, group.read_whole ? &group.positions : nullptr});
    begin = key_ends[i];
  }
  return absl::OkStatus();
}

}  // namespace granary::serving
