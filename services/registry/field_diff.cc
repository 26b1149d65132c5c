#include "services/registry/field_diff.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

#include "libs/catalog/rules.h"

namespace granary::registry {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Whether items of a repeated message field have an identity (catalog::ItemKey).
bool Keyed(const Descriptor* d) {
  return d->FindFieldByName("name") != nullptr || d->FindFieldByName("feature_view") != nullptr;
}

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : absl::StrCat(prefix, ".", name);
}

std::string MessageText(const Message& m) {
  if (m.GetDescriptor() == google::protobuf::Duration::descriptor()) {
    const auto& d = static_cast<const google::protobuf::Duration&>(m);
    return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
  }
  if (m.GetDescriptor() == google::protobuf::Timestamp::descriptor()) {
    return google::protobuf::util::TimeUtil::ToString(
        static_cast<const google::protobuf::Timestamp&>(m));
  }
  return absl::StrCat("{", m.ShortDebugString(), "}");
}

// One value of a field (index < 0 for a singular field) as text.
std::string ValueText(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return rep ? r->GetRepeatedEnum(m, f, index)->name() : r->GetEnum(m, f)->name();
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageText(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return "";
}

std::string ListText(const Message& m, const FieldDescriptor* f) {
  std::vector<std::string> items;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
    items.push_back(ValueText(m, f, i));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

class Differ {
 public:
  std::vector<v1::FieldChange> changes;

  void Messages(const Message& a, const Message& b, const std::string& prefix) {
    const Descriptor* d = a.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (catalog::IsOutputOnly(f)) continue;
      std::string path = Join(prefix, f->name());
      if (f->is_map()) {
        Map(a, b, f, path);
      } else if (f->is_repeated()) {
        Repeated(a, b, f, path);
      } else {
        Singular(a, b, f, path);
      }
    }
  }

 private:
  void Add(std::string path, std::string before, std::string after) {
    v1::FieldChange c;
    c.set_path(std::move(path));
    c.set_old_value(std::move(before));
    c.set_new_value(std::move(after));
    changes.push_back(std::move(c));
  }

  static std::map<std::string, std::string> MapEntries(const Message& m, const FieldDescriptor* f) {
    std::map<std::string, std::string> out;
    const Reflection* r = m.GetReflection();
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      const Message& entry = r->GetRepeatedMessage(m, f, i);
      const Descriptor* ed = entry.GetDescriptor();
      out[ValueText(entry, ed->FindFieldByName("key"), -1)] =
          ValueText(entry, ed->FindFieldByName("value"), -1);
    }
    return out;
  }

  void Map(const Message& a, const Message& b, const FieldDescriptor* f, const std::string& path) {
    std::map<std::string, std::string> before = MapEntries(a, f);
    std::map<std::string, std::string> after = MapEntries(b, f);
    for (const auto& [key, value] : before) {
      auto it = after.find(key);
      if (it == after.end()) {
        Add(absl::StrCat(path, ".", key), value, "");
      } else if (it->second != value) {
        Add(absl::StrCat(path, ".", key), value, it->second);
      }
    }
    for (const auto& [key, value] : after) {
      if (!before.count(key)) Add(absl::StrCat(path, ".", key), "", value);
    }
  }

  void Repeated(const Message& a, const Message& b, const FieldDescriptor* f,
                const std::string& path) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || !Keyed(f->message_type())) {
      std::string before = ListText(a, f), after = ListText(b, f);
      if (before != after) Add(path, before, after);
      return;
    }
    auto items = [&](const Message& m, std::vector<std::string>* order) {
      std::map<std::string, const Message*> out;
      const Reflection* r = m.GetReflection();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const Message& item = r->GetRepeatedMessage(m, f, i);
        std::string k = catalog::ItemKey(item);
        // No identity, or one an earlier item has: known by its position, never dropped.
        if (k.empty() || out.count(k) > 0) k = absl::StrCat("#", i);
        if (out.emplace(k, &item).second) order->push_back(k);
      }
      return out;
    };
    std::vector<std::string> order_a, order_b;
    std::map<std::string, const Message*> before = items(a, &order_a);
    std::map<std::string, const Message*> after = items(b, &order_b);
    for (const std::string& k : order_a) {
      std::string item_path = absl::StrCat(path, "[", k, "]");
      auto it = after.find(k);
      if (it == after.end()) {
        Add(item_path, MessageText(*before[k]), "");
      } else {
        Messages(*before[k], *it->second, item_path);
      }
    }
    for (const std::string& k : order_b) {
      if (!before.count(k)) Add(absl::StrCat(path, "[", k, "]"), "", MessageText(*after[k]));
    }
    // The same items in another order is a change too: order decides response columns.
    std::vector<std::string> common_a, common_b;
    for (const auto& k : order_a)
      if (after.count(k)) common_a.push_back(k);
    for (const auto& k : order_b)
      if (before.count(k)) common_b.push_back(k);
    if (common_a != common_b) {
      Add(absl::StrCat(path, " (order)"), absl::StrJoin(common_a, ", "),
          absl::StrJoin(common_b, ", "));
    }
  }

  void Singular(const Message& a, const Message& b, const FieldDescriptor* f,
                const std::string& path) {
    const Reflection* ra = a.GetReflection();
    const Reflection* rb = b.GetReflection();
    bool has_a = !f->has_presence() || ra->HasField(a, f);
    bool has_b = !f->has_presence() || rb->HasField(b, f);
    if (!has_a && !has_b) return;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Descriptor* md = f->message_type();
      bool scalar_like = md == google::protobuf::Duration::descriptor() ||
                         md == google::protobuf::Timestamp::descriptor();
      if (has_a && has_b && !scalar_like) {
        Messages(ra->GetMessage(a, f), rb->GetMessage(b, f), path);
        return;
      }
    }
    std::string before = has_a ? ValueText(a, f, -1) : "";
    std::string after = has_b ? ValueText(b, f, -1) : "";
    if (has_a != has_b || before != after) Add(path, before, after);
  }
};

}  // namespace

std::vector<v1::FieldChange> DiffFields(const Message& before, const Message& after) {
  Differ differ;
  differ.Messages(before, after, "");
  return std::move(differ.changes);
}

}  // namespace granary::registry
