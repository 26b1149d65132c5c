#include "services/gateway/audit_log.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include <sys/stat.h>

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::gateway {
namespace {

AuditEntry Entry() {
  AuditEntry e;
  e.time = absl::FromUnixMillis(1765054876123);
  e.who = {"ana", {"reader"}, {"team-a"}};
  e.method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  e.resources = {"READ_ONLINE feature view 'v' in project 'p'"};
  e.decision = "allow";
  e.status = "OK";
  e.latency = absl::Microseconds(610);
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  return e;
}

TEST(AuditLogTest, ALineIsWrittenInTheDocumentedOrder) {
  EXPECT_EQ(AuditLine(Entry()),
            R"({"time":"2025-12-06T21:01:16.123Z","user":"ana","roles":["reader"],)"
            R"("groups":["team-a"],"method":"/granary.serving.v1.ServingService/)"
            R"(GetOnlineFeatures","resources":["READ_ONLINE feature view 'v' in project 'p'"],)"
            R"("decision":"allow","status":"OK","latency_ms":0.61,)"
            R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"})");
}

TEST(AuditLogTest, ALineHasEveryField) {
  nlohmann::json line = nlohmann::json::parse(AuditLine(Entry()));
  EXPECT_EQ(line["time"], "2025-12-06T21:01:16.123Z");
  EXPECT_EQ(line["user"], "ana");
  EXPECT_EQ(line["roles"], nlohmann::json::array({"reader"}));
  EXPECT_EQ(line["groups"], nlohmann::json::array({"team-a"}));
  EXPECT_EQ(line["method"], "/granary.serving.v1.ServingService/GetOnlineFeatures");
  EXPECT_EQ(line["resources"][0], "READ_ONLINE feature view 'v' in project 'p'");
  EXPECT_EQ(line["decision"], "allow");
  EXPECT_EQ(line["status"], "OK");
  EXPECT_DOUBLE_EQ(line["latency_ms"].get<double>(), 0.61);
  EXPECT_EQ(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(AuditLogTest, InvalidUtf8InAUserNameNeverLosesTheLine) {
  AuditEntry e = Entry();
  e.who.user = std::string("an\xff\xfe", 4);
  nlohmann::json line = nlohmann::json::parse(AuditLine(e), nullptr, false);
  ASSERT_FALSE(line.is_discarded());
  EXPECT_THAT(line["user"].get<std::string>(), ::testing::StartsWith("an"));
}

TEST(AuditLogTest, AFileIsAppendedToAndReadableByItsOwnerOnly) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("audit"));
  const std::string path = dir.path() + "/audit.log";
  {
    ASSERT_OK_AND_ASSIGN(auto log, AuditLog::Open(path));
    log->Write(Entry());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto log, AuditLog::Open(path));
    AuditEntry denied = Entry();
    denied.decision = "deny";
    log->Write(denied);
    // Written through at once: readable while the log is still open.
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> lines = absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(lines[1])["decision"], "deny");
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST(AuditLogTest, NoTargetMeansNoLogAndABadPathIsAConfigError) {
  ASSERT_OK_AND_ASSIGN(auto none, AuditLog::Open(""));
  EXPECT_EQ(none, nullptr);
  auto bad = AuditLog::Open("/nonexistent-dir/audit.log");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("audit.path"));
}

TEST(AuditLineTest, TheRequestIdIsWrittenOnlyWhenTheCallerSentOne) {
  AuditEntry e;
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  nlohmann::json without = nlohmann::json::parse(AuditLine(e));
  EXPECT_FALSE(without.contains("request_id"));
  EXPECT_EQ(without["trace_id"], e.trace_id);
  e.request_id = "job-7";
  EXPECT_EQ(nlohmann::json::parse(AuditLine(e))["request_id"], "job-7");
}

}  // namespace
}  // namespace granary::gateway
