// Typed configuration from a YAML file, validated once at start-up. Each getter names a key,
// gives its default and checks its type and range; every problem is collected, and Finish()
// reports them all at once with file, line and key path, together with keys nobody read (a typo
// such as "adress" is an error, not a silently ignored setting).
//
//   ASSIGN_OR_RETURN(Reader root, Reader::FromFile(path));
//   Reader redis = root.Section("redis");
//   options.address = redis.Address("address", "127.0.0.1:6379");
//   options.password = redis.SecretValue("password");
//   RETURN_IF_ERROR(root.Finish());  // "serving.yaml:7: redis.address: expected host:port ..."
#ifndef GRANARY_LIBS_CONFIG_READER_H_
#define GRANARY_LIBS_CONFIG_READER_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/config/secret.h"

namespace YAML {
class Node;
}

namespace granary::config {

// A parsed "host:port"; IPv6 hosts are written in brackets ("[::1]:6379").
struct HostPort {
  std::string host;
  int port = 0;
};

// INVALID_ARGUMENT unless `text` is host:port with a port in [0, 65535].
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

class Reader {
 public:
  // INVALID_ARGUMENT for malformed YAML (with the line), NOT_FOUND for a missing file.
  static absl::StatusOr<Reader> FromFile(const std::string& path);
  static absl::StatusOr<Reader> FromString(absl::string_view yaml,
                                           absl::string_view source = "<config>");

  Reader(const Reader&);
  Reader& operator=(const Reader&);
  ~Reader();

  // A nested mapping. A missing section reads as empty, so every key takes its default.
  Reader Section(absl::string_view key);
  bool Has(absl::string_view key) const;

  std::string String(absl::string_view key, absl::string_view default_value);
  // Adds an error when the key is missing or empty.
  std::string RequiredString(absl::string_view key);
  int64_t Int(absl::string_view key, int64_t default_value,
              int64_t min = std::numeric_limits<int64_t>::min(),
              int64_t max = std::numeric_limits<int64_t>::max());
  double Double(absl::string_view key, double default_value,
                double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());
  bool Bool(absl::string_view key, bool default_value);
  // "250ms", "10s", "1h30m". Must lie in [min, max].
  absl::Duration Duration(absl::string_view key, absl::Duration default_value,
                          absl::Duration min = absl::ZeroDuration(),
                          absl::Duration max = absl::InfiniteDuration());
  // A size in bytes: a number, optionally with a unit, "512KiB", "64MiB", "1GiB" (or KB, MB,
  // GB, as powers of 1000). Must lie in [min, max].
  int64_t Bytes(absl::string_view key, int64_t default_value, int64_t min = 0,
                int64_t max = std::numeric_limits<int64_t>::max());
  // "host:port" with a port in [0, 65535]; port 0 asks the OS for a free one.
  std::string Address(absl::string_view key, absl::string_view default_value);
  // The same, split.
  HostPort HostAndPort(absl::string_view key, absl::string_view default_value);
  std::vector<std::string> StringList(absl::string_view key);
  // A list of mappings, one Reader per item, with paths "key[0]", "key[1]", ...
  std::vector<Reader> List(absl::string_view key);
  // The line (1-based) of a key in its file, or 0 when absent: for messages about objects.
  int Line(absl::string_view key) const;
  // The line of this section itself (0 for the root or a missing section).
  int line() const;
  // The file this config was read from.
  const std::string& source() const;
  std::map<std::string, std::string> StringMap(absl::string_view key);
  // `key: {file: /path}` or `key: {env: NAME}`, read now. Missing key: an empty Secret.
  // A literal value is refused: secrets do not live in config files.
  Secret SecretValue(absl::string_view key);
  // For files that only describe a deployment to check (`granary verify`), never for a
  // service's own config: SecretValue then accepts a literal too, and remembers its path, so
  // that the checker can warn that the secret is written in clear.
  void AllowInlineSecrets();
  // Paths of the secrets given as literals (with AllowInlineSecrets).
  std::vector<std::string> InlineSecrets() const;

  // Records the key as read without reading it (a key left empty on purpose).
  void Skip(absl::string_view key);

  // For checks across keys: records an error against this section's key.
  void AddError(absl::string_view key, absl::string_view message);
  // INVALID_ARGUMENT listing every error and unknown key, one per line; OK when there are none.
  absl::Status Finish() const;
  // The full dotted path of a key in this section, e.g. "redis.address".
  std::string Path(absl::string_view key) const;

 private:
  struct State;
  Reader(std::shared_ptr<State> state, std::unique_ptr<YAML::Node> node, std::string prefix);
  // The child node, or null when absent; records the key as read.
  std::unique_ptr<YAML::Node> Get(absl::string_view key);
  std::string Where(const YAML::Node& node, absl::string_view key) const;
  bool Scalar(absl::string_view key, std::string* out);

  std::shared_ptr<State> state_;
  std::unique_ptr<YAML::Node> node_;
  std::string prefix_;
};

}  // namespace granary::config

#endif  // GRANARY_LIBS_CONFIG_READER_H_
