// A fresh directory removed (recursively) on destruction.
//
//   ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("redis"));
//   std::string conf = dir.path() + "/redis.conf";
#ifndef GRANARY_LIBS_TESTING_TEMP_DIR_H_
#define GRANARY_LIBS_TESTING_TEMP_DIR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::testing {

class TempDir {
 public:
  // Under $TEST_TMPDIR when set, else under $TMPDIR or /tmp. `under_tmp` forces /tmp, for
  // directories another user must reach (PostgreSQL's data directory when running as root:
  // Bazel's test folders live under /root, which that user cannot enter).
  static absl::StatusOr<TempDir> Create(absl::string_view prefix, bool under_tmp = false);

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();
  std::string path_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_TEMP_DIR_H_
