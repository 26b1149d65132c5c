#include "libs/config/secret.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace granary::config {
namespace {

TEST(SecretTest, FromFileStripsTrailingNewlines) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/secret";
  std::ofstream(path) << "pa ss\r\n\n";
  absl::StatusOr<Secret> s = Secret::FromFile(path);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->value(), "pa ss");
  EXPECT_EQ(s->source(), "file:" + path);
}

TEST(SecretTest, MissingFileAndUnsetVariableAreNotFound) {
  EXPECT_EQ(Secret::FromFile("/nonexistent").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Secret::FromEnv("GRANARY_SURELY_UNSET").status().code(), absl::StatusCode::kNotFound);
}

TEST(SecretTest, FromEnv) {
  setenv("GRANARY_SECRET_TEST", "v", 1);
  EXPECT_EQ(Secret::FromEnv("GRANARY_SECRET_TEST")->value(), "v");
}

TEST(SecretTest, PrintsRedacted) {
  std::ostringstream out;
  out << Secret::FromValue("hunter2");
  EXPECT_EQ(out.str(), "<redacted>");
}

}  // namespace
}  // namespace granary::config
