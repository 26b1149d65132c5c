#include "tools/cli/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::granary::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("GRANARY_TOKEN");
    unsetenv("GRANARY_HOME");
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("credentials"));
    repo_.dir = Path("checkout/examples/repo");
    fs::create_directories(repo_.dir);
  }
  void TearDown() override {
    unsetenv("GRANARY_TOKEN");
    unsetenv("GRANARY_HOME");
  }

  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(Path(name)).parent_path());
    std::ofstream(Path(name)) << text;
    return Path(name);
  }

  TempDir dir_ = std::move(TempDir::Create("unused").value());
  RepoConfig repo_;
};

TEST_F(CredentialsTest, NoTokenAnywhereSendsNone) {
  ASSERT_OK_AND_ASSIGN(BearerToken token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "");
}

TEST_F(CredentialsTest, TheLocalStacksTokenIsFoundAboveTheRepo) {
  std::string file = Write("checkout/.granary/token", "local.token.value\n");
  ASSERT_OK_AND_ASSIGN(BearerToken token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "local.token.value");
  EXPECT_EQ(token.source, file);
}

TEST_F(CredentialsTest, GranaryHomeNamesTheStateFolder) {
  Write("checkout/.granary/token", "found.by.walking\n");
  Write("elsewhere/token", "from.granary.home\n");
  setenv("GRANARY_HOME", Path("elsewhere").c_str(), 1);
  ASSERT_OK_AND_ASSIGN(BearerToken token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "from.granary.home");
  EXPECT_EQ(FindStateFile("jwt.secret", {repo_.dir}), "");
}

TEST_F(CredentialsTest, FlagThenEnvironmentThenRepoFileThenLocalStack) {
  Write("checkout/.granary/token", "local\n");
  repo_.token_file = Write("repo.token", "  from.repo.file \n");
  ASSERT_OK_AND_ASSIGN(BearerToken token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "from.repo.file");
  setenv("GRANARY_TOKEN", "from.env", 1);
  ASSERT_OK_AND_ASSIGN(token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "from.env");
  EXPECT_EQ(token.source, "$GRANARY_TOKEN");
  ASSERT_OK_AND_ASSIGN(token, ResolveToken("from.flag", repo_));
  EXPECT_EQ(token.value, "from.flag");
  EXPECT_EQ(token.source, "--token");
}

TEST_F(CredentialsTest, AuthTypeNoneSendsOnlyWhatIsGivenExplicitly) {
  Write("checkout/.granary/token", "local\n");
  repo_.auth_type = "none";
  ASSERT_OK_AND_ASSIGN(BearerToken token, ResolveToken("", repo_));
  EXPECT_EQ(token.value, "");
  ASSERT_OK_AND_ASSIGN(token, ResolveToken("given", repo_));
  EXPECT_EQ(token.value, "given");
}

TEST_F(CredentialsTest, UnusableTokensAreErrorsThatNeverQuoteThem) {
  repo_.token_file = Path("missing.token");
  EXPECT_THAT(ResolveToken("", repo_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(repo_.token_file)));
  repo_.token_file = Write("empty.token", "\n");
  EXPECT_THAT(ResolveToken("", repo_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  repo_.token_file = Write("bad.token", "secret-part-one\nsecret-part-two\n");
  EXPECT_THAT(ResolveToken("", repo_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(repo_.token_file), Not(HasSubstr("secret-part")))));
  EXPECT_THAT(ResolveToken("a b", repo_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--token"), Not(HasSubstr("a b")))));
}

}  // namespace
}  // namespace granary::cli
