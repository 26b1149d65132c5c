#include "tools/cli/yaml_proto.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "yaml-cpp/yaml.h"

#include "libs/catalog/rules.h"

namespace granary::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Feast's type names, for users bringing definitions over.
const EnumValueDescriptor* FeastTypeAlias(const EnumDescriptor* e, const std::string& lower) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"float32", "FLOAT"}, {"float64", "DOUBLE"},
      {"int32", "INT32"},   {"int64", "INT64"},
      {"string", "STRING"}, {"bytes", "BYTES"},
      {"bool", "BOOL"},     {"unixtimestamp", "UNIX_TIMESTAMP"},
  };
  for (const auto& [alias, name] : kAliases) {
    if (lower == alias) return e->FindValueByName(name);
  }
  return nullptr;
}

const EnumValueDescriptor* FindEnumValue(const EnumDescriptor* e, const std::string& text) {
  if (const EnumValueDescriptor* v = e->FindValueByName(absl::AsciiStrToUpper(text))) return v;
  return FeastTypeAlias(e, absl::AsciiStrToLower(text));
}

// Feast's shorthands for sets of permission actions.
std::vector<const EnumValueDescriptor*> ActionAliases(const EnumDescriptor* e,
                                                      const std::string& upper) {
  static const std::pair<const char*, std::vector<const char*>> kAliases[] = {
      {"READ", {"READ_ONLINE", "READ_OFFLINE"}},
      {"WRITE", {"WRITE_ONLINE", "WRITE_OFFLINE"}},
      {"CRUD", {"CREATE", "DESCRIBE", "UPDATE", "DELETE"}},
      {"ALL",
       {"CREATE", "DESCRIBE", "UPDATE", "DELETE", "READ_ONLINE", "READ_OFFLINE", "WRITE_ONLINE",
        "WRITE_OFFLINE"}},
  };
  std::vector<const EnumValueDescriptor*> out;
  if (e->full_name() != "granary.registry.v1.Permission.Action") return out;
  for (const auto& [alias, names] : kAliases) {
    if (upper != alias) continue;
    for (const char* n : names) out.push_back(e->FindValueByName(n));
  }
  return out;
}

std::string EnumChoices(const EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) {
    // The zero values (INVALID, *_UNSPECIFIED) are not choices.
    if (e->value(i)->number() != 0) names.push_back(e->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

void SetEnum(config::Reader& r, const std::string& key, const std::string& text, Message* m,
             const FieldDescriptor* f) {
  if (f->is_repeated()) {
    std::vector<const EnumValueDescriptor*> expanded =
        ActionAliases(f->enum_type(), absl::AsciiStrToUpper(text));
    for (const EnumValueDescriptor* v : expanded) m->GetReflection()->AddEnum(m, f, v);
    if (!expanded.empty()) return;
  }
  const EnumValueDescriptor* v = FindEnumValue(f->enum_type(), text);
  if (v == nullptr || v->number() == 0) {
    r.AddError(key, absl::StrCat("unknown ", f->name() == "dtype" ? "type" : "value", " \"", text,
                                 "\" (one of ", EnumChoices(f->enum_type()), ")"));
    return;
  }
  if (f->is_repeated()) {
    m->GetReflection()->AddEnum(m, f, v);
  } else {
    m->GetReflection()->SetEnum(m, f, v);
  }
}

}  // namespace

absl::StatusOr<absl::Duration> ParseRepoDuration(absl::string_view text) {
  absl::Duration days = absl::ZeroDuration();
  absl::string_view rest = text;
  size_t d = rest.find('d');
  if (d != absl::string_view::npos) {
    int64_t n;
    if (!absl::SimpleAtoi(rest.substr(0, d), &n)) {
      return absl::InvalidArgumentError(absl::StrCat("not a duration: \"", text, "\""));
    }
    days = absl::Hours(24 * n);
    rest = rest.substr(d + 1);
  }
  absl::Duration more = absl::ZeroDuration();
  if (!rest.empty() && !absl::ParseDuration(rest, &more)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a duration: \"", text, "\" (e.g. 1d, 12h, 90m, 86400s)"));
  }
  return days + more;
}

void ReadMessage(config::Reader& r, Message* m) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* refl = m->GetReflection();
  // The first member written of each oneof: a second one is an error, not a silent overwrite.
  std::map<const google::protobuf::OneofDescriptor*, std::string> oneof_seen;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string& key = f->name();
    if (catalog::IsOutputOnly(f)) continue;
    if (!r.Has(key)) {
      r.Skip(key);  // absent, or present and empty: either way not an unknown key
      continue;
    }
    if (const auto* oneof = f->real_containing_oneof()) {
      auto [it, first] = oneof_seen.emplace(oneof, key);
      if (!first) {
        r.AddError(key, absl::StrCat("only one of ", it->second, " and ", key,
                                     " can be given (they are alternatives)"));
        continue;
      }
    }
    if (f->is_map()) {
      const FieldDescriptor* value_field = f->message_type()->FindFieldByName("value");
      for (const auto& [k, v] : r.StringMap(key)) {
        Message* entry = refl->AddMessage(m, f);
        entry->GetReflection()->SetString(entry, f->message_type()->FindFieldByName("key"), k);
        entry->GetReflection()->SetString(entry, value_field, v);
      }
    } else if (f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      for (config::Reader& item : r.List(key)) ReadMessage(item, refl->AddMessage(m, f));
    } else if (f->is_repeated()) {
      for (const std::string& v : r.StringList(key)) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
          SetEnum(r, key, v, m, f);
        } else {
          refl->AddString(m, f, v);
        }
      }
    } else if (f->message_type() == google::protobuf::Duration::descriptor()) {
      std::string text = r.String(key, "");
      absl::StatusOr<absl::Duration> parsed = ParseRepoDuration(text);
      if (!parsed.ok()) {
        r.AddError(key, parsed.status().message());
        continue;
      }
      auto* out = static_cast<google::protobuf::Duration*>(refl->MutableMessage(m, f));
      out->set_seconds(absl::IDivDuration(*parsed, absl::Seconds(1), &*parsed));
      out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(*parsed)));
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      config::Reader section = r.Section(key);
      ReadMessage(section, refl->MutableMessage(m, f));
    } else {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          refl->SetString(m, f, r.String(key, ""));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          refl->SetBool(m, f, r.Bool(key, false));
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          refl->SetInt32(m, f, static_cast<int32_t>(r.Int(key, 0, INT32_MIN, INT32_MAX)));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          refl->SetInt64(m, f, r.Int(key, 0));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          SetEnum(r, key, r.String(key, ""), m, f);
          break;
        default:
          r.AddError(key, "this field cannot be written in YAML");
      }
    }
  }
}

namespace {

void EmitMessage(YAML::Emitter& out, const Message& m);

void EmitValue(YAML::Emitter& out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      out << (rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      out << (rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << (rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      if (sub.GetDescriptor() == google::protobuf::Duration::descriptor()) {
        const auto& d = static_cast<const google::protobuf::Duration&>(sub);
        out << absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
      } else if (sub.GetDescriptor() == google::protobuf::Timestamp::descriptor()) {
        out << google::protobuf::util::TimeUtil::ToString(
            static_cast<const google::protobuf::Timestamp&>(sub));
      } else {
        EmitMessage(out, sub);
      }
      break;
    }
    default:
      out << YAML::Null;
  }
}

void EmitMessage(YAML::Emitter& out, const Message& m) {
  out << YAML::BeginMap;
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    out << YAML::Key << f->name() << YAML::Value;
    if (f->is_map()) {
      out << YAML::BeginMap;
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
        const Message& entry = m.GetReflection()->GetRepeatedMessage(m, f, i);
        const Descriptor* ed = entry.GetDescriptor();
        out << YAML::Key;
        EmitValue(out, entry, ed->FindFieldByName("key"), -1);
        out << YAML::Value;
        EmitValue(out, entry, ed->FindFieldByName("value"), -1);
      }
      out << YAML::EndMap;
    } else if (f->is_repeated()) {
      bool scalars = f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
      out << (scalars ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) EmitValue(out, m, f, i);
      out << YAML::EndSeq;
    } else {
      EmitValue(out, m, f, -1);
    }
  }
  out << YAML::EndMap;
}

}  // namespace

std::string MessageToYaml(const Message& message) {
  YAML::Emitter out;
  EmitMessage(out, message);
  return out.c_str();
}

}  // namespace granary::cli
