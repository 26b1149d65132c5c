// What the deployment tests share: running the operators' tools (docker-compose, kubectl,
// promtool, amtool, the start scripts) and reading the files they write.
//
//   Result r = RunProgram({FindProgram("kubectl"), "kustomize", dir}, TempPath("out.yaml"));
#ifndef GRANARY_TESTS_DEPLOY_PROGRAMS_H_
#define GRANARY_TESTS_DEPLOY_PROGRAMS_H_

#include <string>
#include <vector>

namespace granary::testing {

struct Result {
  int status = -1;  // the wait status, or -1 when it could not run or did not end in 120 s
  std::string output;
};

// Runs argv to its end; with `stdout_path`, stdout goes to that file (the tools print
// warnings on stderr, which must not land in what is parsed). `env`: NAME=VALUE additions.
Result RunProgram(std::vector<std::string> argv, const std::string& stdout_path = "",
                  const std::vector<std::string>& env = {});

// A program on PATH, else in /usr/bin: Bazel's test environment may give a short PATH.
std::string FindProgram(const std::string& name);

// The whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

// A path in the test's temporary folder.
std::string TempPath(const std::string& name);

}  // namespace granary::testing

#endif  // GRANARY_TESTS_DEPLOY_PROGRAMS_H_
