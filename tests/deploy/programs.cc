#include "tests/deploy/programs.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/testing/subprocess.h"

namespace granary::testing {

Result RunProgram(std::vector<std::string> argv, const std::string& stdout_path,
                  const std::vector<std::string>& env) {
  if (!stdout_path.empty()) {
    argv.insert(argv.begin(),
                {"/bin/sh", "-c", "out=$1; shift; exec \"$@\" >\"$out\"", "sh", stdout_path});
  }
  auto process = Subprocess::Start({.argv = argv, .env = env});
  if (!process.ok()) return {-1, process.status().ToString()};
  absl::StatusOr<int> status = (*process)->Wait(absl::Seconds(120));
  return {status.ok() ? *status : -1, (*process)->Output()};
}

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::StrCat("/usr/bin/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

}  // namespace granary::testing
