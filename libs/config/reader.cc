#include "libs/config/reader.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "yaml-cpp/yaml.h"

namespace granary::config {

struct Reader::State {
  std::string source;
  YAML::Node root;
  std::vector<std::string> errors;
  // Paths that were read: sections are checked key by key, values as a whole.
  std::map<std::string, bool> read_paths;  // path -> is_section
  bool allow_inline_secrets = false;
  std::vector<std::string> inline_secrets;
};

namespace {

void CollectUnknown(const YAML::Node& node, const std::string& prefix,
                    const std::map<std::string, bool>& read, const std::string& source,
                    std::vector<std::string>* errors) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      std::string path = absl::StrCat(prefix, "[", i, "]");
      auto it = read.find(path);
      if (it != read.end() && it->second) CollectUnknown(node[i], path, read, source, errors);
    }
    return;
  }
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    auto it = read.find(path);
    if (it == read.end()) {
      errors->push_back(
          absl::StrCat(source, ":", kv.first.Mark().line + 1, ": ", path, ": unknown key"));
    } else if (it->second) {
      CollectUnknown(kv.second, path, read, source, errors);
    }
  }
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  HostPort hp;
  size_t colon = text.rfind(':');
  bool ok = colon != absl::string_view::npos && colon > 0 &&
            absl::SimpleAtoi(text.substr(colon + 1), &hp.port) && hp.port >= 0 && hp.port <= 65535;
  if (ok) {
    absl::string_view host = text.substr(0, colon);
    if (host.front() == '[') {
      ok = host.size() > 2 && host.back() == ']';
      host = host.substr(1, host.size() - 2);
    } else {
      ok = host.find(':') == absl::string_view::npos;  // IPv6 needs brackets
    }
    hp.host = std::string(host);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected host:port (e.g. 127.0.0.1:6379 or [::1]:6379), got \"", text, "\""));
  }
  return hp;
}

Reader::Reader(std::shared_ptr<State> state, std::unique_ptr<YAML::Node> node, std::string prefix)
    : state_(std::move(state)), node_(std::move(node)), prefix_(std::move(prefix)) {}

Reader::Reader(const Reader& other)
    : state_(other.state_),
      node_(std::make_unique<YAML::Node>(*other.node_)),
      prefix_(other.prefix_) {}

Reader& Reader::operator=(const Reader& other) {
  state_ = other.state_;
  node_ = std::make_unique<YAML::Node>(*other.node_);
  prefix_ = other.prefix_;
  return *this;
}

Reader::~Reader() = default;

absl::StatusOr<Reader> Reader::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return FromString(text.str(), path);
}

absl::StatusOr<Reader> Reader::FromString(absl::string_view yaml, absl::string_view source) {
  auto state = std::make_shared<State>();
  state->source = std::string(source);
  try {
    state->root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", e.mark.line + 1, ": malformed YAML: ", e.msg));
  }
  if (state->root.IsNull()) state->root = YAML::Node(YAML::NodeType::Map);
  if (!state->root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the top level must be a mapping of keys to values"));
  }
  auto node = std::make_unique<YAML::Node>(state->root);
  return Reader(std::move(state), std::move(node), "");
}

std::string Reader::Path(absl::string_view key) const {
  return prefix_.empty() ? std::string(key) : absl::StrCat(prefix_, ".", key);
}

std::string Reader::Where(const YAML::Node& node, absl::string_view key) const {
  if (node.IsDefined() && node.Mark().line >= 0) {
    return absl::StrCat(state_->source, ":", node.Mark().line + 1, ": ", Path(key));
  }
  return absl::StrCat(state_->source, ": ", Path(key));
}

std::unique_ptr<YAML::Node> Reader::Get(absl::string_view key) {
  state_->read_paths.emplace(Path(key), false);
  const YAML::Node& self = *node_;
  if (!self.IsMap()) return nullptr;
  YAML::Node child = self[std::string(key)];
  if (!child.IsDefined() || child.IsNull()) return nullptr;
  return std::make_unique<YAML::Node>(child);
}

void Reader::Skip(absl::string_view key) { Get(key); }

bool Reader::Has(absl::string_view key) const {
  const YAML::Node& self = *node_;
  if (!self.IsMap()) return false;
  YAML::Node child = self[std::string(key)];
  return child.IsDefined() && !child.IsNull();
}

void Reader::AddError(absl::string_view key, absl::string_view message) {
  const YAML::Node& self = *node_;
  YAML::Node child = self.IsMap() ? self[std::string(key)] : YAML::Node();
  state_->errors.push_back(absl::StrCat(Where(child, key), ": ", message));
}

Reader Reader::Section(absl::string_view key) {
  std::string path = Path(key);
  std::unique_ptr<YAML::Node> child = Get(key);
  state_->read_paths[path] = true;
  if (child != nullptr && !child->IsMap()) {
    AddError(key, "expected a mapping of keys to values");
    child = nullptr;
  }
  if (child == nullptr) child = std::make_unique<YAML::Node>(YAML::NodeType::Map);
  return Reader(state_, std::move(child), path);
}

bool Reader::Scalar(absl::string_view key, std::string* out) {
  std::unique_ptr<YAML::Node> child = Get(key);
  if (child == nullptr) return false;
  if (!child->IsScalar()) {
    AddError(key, "expected a single value");
    return false;
  }
  *out = child->Scalar();
  return true;
}

std::string Reader::String(absl::string_view key, absl::string_view default_value) {
  std::string v;
  return Scalar(key, &v) ? v : std::string(default_value);
}

std::string Reader::RequiredString(absl::string_view key) {
  std::string v;
  if (!Scalar(key, &v)) {
    if (!Has(key)) AddError(key, "required");
    return v;
  }
  if (v.empty()) AddError(key, "must not be empty");
  return v;
}

int64_t Reader::Int(absl::string_view key, int64_t default_value, int64_t min, int64_t max) {
  std::string text;
  if (!Scalar(key, &text)) return default_value;
  int64_t v;
  if (!absl::SimpleAtoi(text, &v)) {
    AddError(key, absl::StrCat("expected an integer, got \"", text, "\""));
    return default_value;
  }
  if (v < min || v > max) {
    AddError(key, absl::StrCat("must be between ", min, " and ", max, ", got ", v));
    return default_value;
  }
  return v;
}

double Reader::Double(absl::string_view key, double default_value, double min, double max) {
  std::string text;
  if (!Scalar(key, &text)) return default_value;
  double v;
  if (!absl::SimpleAtod(text, &v)) {
    AddError(key, absl::StrCat("expected a number, got \"", text, "\""));
    return default_value;
  }
  if (v < min || v > max) {
    AddError(key, absl::StrCat("must be between ", min, " and ", max, ", got ", v));
    return default_value;
  }
  return v;
}

bool Reader::Bool(absl::string_view key, bool default_value) {
  std::string text;
  if (!Scalar(key, &text)) return default_value;
  std::string t = absl::AsciiStrToLower(text);
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  AddError(key, absl::StrCat("expected true or false, got \"", text, "\""));
  return default_value;
}

absl::Duration Reader::Duration(absl::string_view key, absl::Duration default_value,
                                absl::Duration min, absl::Duration max) {
  std::string text;
  if (!Scalar(key, &text)) return default_value;
  absl::Duration d;
  if (!absl::ParseDuration(text, &d)) {
    AddError(key,
             absl::StrCat("expected a duration such as 250ms, 10s or 1h30m, got \"", text, "\""));
    return default_value;
  }
  if (d < min || d > max) {
    AddError(key, absl::StrCat("must be between ", absl::FormatDuration(min), " and ",
                               absl::FormatDuration(max), ", got ", text));
    return default_value;
  }
  return d;
}

namespace {

absl::optional<int64_t> ParseBytes(absl::string_view text) {
  static constexpr std::pair<absl::string_view, int64_t> kUnits[] = {
      {"KiB", int64_t{1} << 10},
      {"MiB", int64_t{1} << 20},
      {"GiB", int64_t{1} << 30},
      {"TiB", int64_t{1} << 40},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
      {"TB", int64_t{1000} * 1000 * 1000 * 1000},
      {"B", 1}};
  text = absl::StripAsciiWhitespace(text);
  int64_t unit = 1;
  for (const auto& [suffix, size] : kUnits) {
    if (absl::ConsumeSuffix(&text, suffix)) {
      unit = size;
      break;
    }
  }
  int64_t n;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &n) || n < 0 ||
      n > std::numeric_limits<int64_t>::max() / unit) {
    return absl::nullopt;
  }
  return n * unit;
}

}  // namespace

int64_t Reader::Bytes(absl::string_view key, int64_t default_value, int64_t min, int64_t max) {
  std::string text;
  if (!Scalar(key, &text)) return default_value;
  absl::optional<int64_t> v = ParseBytes(text);
  if (!v.has_value()) {
    AddError(key, absl::StrCat("expected a size such as 65536, 512KiB, 64MiB or 1GiB, got \"", text,
                               "\""));
    return default_value;
  }
  if (*v < min || *v > max) {
    AddError(key, absl::StrCat("must be between ", min, " and ", max, " bytes, got ", text));
    return default_value;
  }
  return *v;
}

std::string Reader::Address(absl::string_view key, absl::string_view default_value) {
  std::string text;
  if (!Scalar(key, &text)) return std::string(default_value);
  absl::StatusOr<HostPort> parsed = ParseHostPort(text);
  if (!parsed.ok()) {
    AddError(key, parsed.status().message());
    return std::string(default_value);
  }
  return text;
}

HostPort Reader::HostAndPort(absl::string_view key, absl::string_view default_value) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(Address(key, default_value));
  return parsed.ok() ? *parsed : HostPort{};
}

std::vector<std::string> Reader::StringList(absl::string_view key) {
  std::vector<std::string> out;
  std::unique_ptr<YAML::Node> child = Get(key);
  if (child == nullptr) return out;
  if (!child->IsSequence()) {
    AddError(key, "expected a list");
    return out;
  }
  for (const auto& item : *child) {
    if (!item.IsScalar()) {
      AddError(key, "expected a list of single values");
      return {};
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::vector<Reader> Reader::List(absl::string_view key) {
  std::vector<Reader> out;
  std::string path = Path(key);
  std::unique_ptr<YAML::Node> child = Get(key);
  state_->read_paths[path] = true;
  if (child == nullptr) return out;
  if (!child->IsSequence()) {
    AddError(key, "expected a list");
    return out;
  }
  for (size_t i = 0; i < child->size(); ++i) {
    YAML::Node item = (*child)[i];
    std::string item_path = absl::StrCat(path, "[", i, "]");
    state_->read_paths[item_path] = true;
    if (!item.IsMap()) {
      state_->errors.push_back(absl::StrCat(state_->source, ":", item.Mark().line + 1, ": ",
                                            item_path, ": expected a mapping of keys to values"));
      continue;
    }
    out.push_back(Reader(state_, std::make_unique<YAML::Node>(item), item_path));
  }
  return out;
}

int Reader::Line(absl::string_view key) const {
  const YAML::Node& self = *node_;
  if (!self.IsMap()) return 0;
  YAML::Node child = self[std::string(key)];
  return child.IsDefined() && child.Mark().line >= 0 ? child.Mark().line + 1 : 0;
}

int Reader::line() const { return node_->Mark().line >= 0 ? node_->Mark().line + 1 : 0; }

const std::string& Reader::source() const { return state_->source; }

std::map<std::string, std::string> Reader::StringMap(absl::string_view key) {
  std::map<std::string, std::string> out;
  std::unique_ptr<YAML::Node> child = Get(key);
  if (child == nullptr) return out;
  if (!child->IsMap()) {
    AddError(key, "expected a mapping of keys to values");
    return out;
  }
  for (const auto& kv : *child) {
    if (!kv.second.IsScalar()) {
      AddError(key, absl::StrCat("value of \"", kv.first.Scalar(), "\" must be a single value"));
      continue;
    }
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

Secret Reader::SecretValue(absl::string_view key) {
  std::unique_ptr<YAML::Node> child = Get(key);
  if (child == nullptr) return Secret();
  if (state_->allow_inline_secrets && child->IsScalar()) {
    state_->inline_secrets.push_back(Path(key));
    return Secret::FromValue(child->Scalar(), absl::StrCat("inline:", Path(key)));
  }
  bool ok = child->IsMap() && child->size() == 1 &&
            ((*child)["file"].IsScalar() || (*child)["env"].IsScalar());
  if (!ok) {
    AddError(key, "expected {file: PATH} or {env: VARIABLE}; secrets are never written inline");
    return Secret();
  }
  absl::StatusOr<Secret> secret = (*child)["file"].IsScalar()
                                      ? Secret::FromFile((*child)["file"].Scalar())
                                      : Secret::FromEnv((*child)["env"].Scalar());
  if (!secret.ok()) {
    AddError(key, secret.status().message());
    return Secret();
  }
  return *std::move(secret);
}

void Reader::AllowInlineSecrets() { state_->allow_inline_secrets = true; }

std::vector<std::string> Reader::InlineSecrets() const { return state_->inline_secrets; }

absl::Status Reader::Finish() const {
  std::vector<std::string> all = state_->errors;
  CollectUnknown(state_->root, "", state_->read_paths, state_->source, &all);
  if (all.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid configuration (", all.size(),
                                                 all.size() == 1 ? " problem" : " problems",
                                                 "):\n  ", absl::StrJoin(all, "\n  ")));
}

}  // namespace granary::config
