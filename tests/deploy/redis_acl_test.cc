// deploy/redis/users.acl on a real Redis: serving's user reads through the online store and
// is refused every write; the writers' user runs the guarded writes and removals (the Lua
// scripts' own commands are checked against it too) and is refused what no writer sends
// (FLUSHALL, CONFIG, KEYS, DEL, EVAL); the default user is off.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/config/secret.h"
#include "libs/keys/entity_key.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/redis/connection.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::testing {
namespace {

constexpr char kAcl[] = "deploy/redis/users.acl";
constexpr char kPassword[] = "test-only-password-0123456789";

// The file's `user` lines, each with the test's password (`default` stays off).
std::vector<std::string> UserLines() {
  std::ifstream in(kAcl);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "user ")) continue;
    if (!absl::StartsWith(line, "user default ")) absl::StrAppend(&line, " >", kPassword);
    lines.push_back(line);
  }
  return lines;
}

redis::RedisOptions As(const RedisServer& server, const std::string& user) {
  redis::RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  o.user = user;
  if (!user.empty()) o.password = config::Secret::FromValue(kPassword);
  return o;
}

// The error a command gets, "" when it succeeds.
std::string ErrorOf(redis::Connection& conn, const std::vector<std::string>& command) {
  absl::StatusOr<redis::Reply> reply = conn.Command(command);
  if (!reply.ok()) return reply.status().ToString();
  return reply->is_error() ? reply->str : "";
}

std::string Key(int64_t id) {
  types::v1::Value v;
  v.set_int64_val(id);
  absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", v}}, "driver_stats");
  return key.ok() ? *key : "";
}

onlinestore::ViewWrite Write(int64_t id, const std::string& value) {
  absl::Time t = absl::Now();
  return {"driver_hourly_stats",
          {"f1"},
          1,
          absl::Hours(1),
          {onlinestore::RowWrite{Key(id), t, t, {value}}}};
}

class RedisAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> users = UserLines();
    ASSERT_EQ(users.size(), 3u) << "expected the serving, writer and default users in " << kAcl;
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start({.config_lines = users}));
  }
  std::unique_ptr<RedisServer> redis_;
};

TEST_F(RedisAclTest, TheWriterWritesAndRemovesButCannotDoWhatNoWriterDoes) {
  onlinestore::RedisOnlineStore store(As(*redis_, "granary-writer"));
  auto session = store.NewSession();
  ASSERT_OK(session->Ping(absl::Now() + absl::Seconds(5)));
  ASSERT_OK_AND_ASSIGN(onlinestore::WriteResult written,
                       session->WriteNewer(Write(1, "a"), absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(written.written, 1);
  onlinestore::RemovalProgress progress;
  while (!progress.done) {
    ASSERT_OK(session->RemoveView({"driver_stats", "driver_hourly_stats", {"f1"}, 1}, &progress,
                                  absl::Now() + absl::Seconds(5)));
  }
  EXPECT_EQ(progress.rows_removed, 1);

  ASSERT_OK_AND_ASSIGN(auto conn, redis::Connection::Open(As(*redis_, "granary-writer")));
  for (const std::vector<std::string>& refused :
       std::vector<std::vector<std::string>>{{"FLUSHALL"},
                                             {"CONFIG", "GET", "maxmemory"},
                                             {"KEYS", "*"},
                                             {"DEL", Key(1)},
                                             {"EVAL", "return 1", "0"},
                                             {"ACL", "LIST"},
                                             {"SET", "x", "1"},
                                             // MULTI and DISCARD are allowed (granary verify
                                             // queues probes), a transaction never runs.
                                             {"EXEC"}}) {
    EXPECT_THAT(ErrorOf(*conn, refused), ::testing::HasSubstr("NOPERM")) << refused[0];
  }
}

TEST_F(RedisAclTest, ServingReadsAndIsRefusedEveryWrite) {
  onlinestore::RedisOnlineStore writer(As(*redis_, "granary-writer"));
  auto writing = writer.NewSession();
  ASSERT_OK_AND_ASSIGN(onlinestore::WriteResult written,
                       writing->WriteNewer(Write(2, "b"), absl::Now() + absl::Seconds(5)));
  ASSERT_EQ(written.written, 1);
  onlinestore::RedisOnlineStore store(As(*redis_, "granary-serving"));
  auto session = store.NewSession();
  ASSERT_OK(session->Ping(absl::Now() + absl::Seconds(5)));
  const std::vector<std::string> fields = {"f1"};
  const std::string key = Key(2);  // HashGet holds a view of it
  std::vector<onlinestore::HashGet> gets = {{key, &fields}};
  std::string read;
  ASSERT_OK(session->MultiGet(gets, absl::Now() + absl::Seconds(5),
                              [&](size_t, size_t, const char* data, size_t size) {
                                if (data != nullptr) read.assign(data, size);
                              }));
  EXPECT_EQ(read, "b");

  // The online store's own write path is refused (its script cannot even be loaded) ...
  absl::StatusOr<onlinestore::WriteResult> write =
      session->WriteNewer(Write(3, "c"), absl::Now() + absl::Seconds(5));
  EXPECT_FALSE(write.ok());
  EXPECT_THAT(write.status().message(), ::testing::HasSubstr("NOPERM"));
  // ... and so is every other way to change a key.
  ASSERT_OK_AND_ASSIGN(auto conn, redis::Connection::Open(As(*redis_, "granary-serving")));
  for (const std::vector<std::string>& refused :
       std::vector<std::vector<std::string>>{{"HSET", Key(2), "f1", "x"},
                                             {"HDEL", Key(2), "f1"},
                                             {"DEL", Key(2)},
                                             {"EXPIRE", Key(2), "1"},
                                             {"SET", "x", "1"},
                                             {"FLUSHALL"},
                                             {"EVAL", "return 1", "0"},
                                             {"SCRIPT", "LOAD", "return 1"},
                                             {"EXEC"}}) {
    EXPECT_THAT(ErrorOf(*conn, refused), ::testing::HasSubstr("NOPERM")) << refused[0];
  }
  EXPECT_EQ(ErrorOf(*conn, {"HMGET", Key(2), "f1"}), "");
  EXPECT_EQ(ErrorOf(*conn, {"HGETALL", Key(2)}), "");
}

TEST_F(RedisAclTest, TheDefaultUserIsOff) {
  ASSERT_OK_AND_ASSIGN(auto anonymous, redis::Connection::Open(As(*redis_, "")));
  EXPECT_THAT(ErrorOf(*anonymous, {"HMGET", Key(2), "f1"}), ::testing::HasSubstr("NOAUTH"));
}

}  // namespace
}  // namespace granary::testing
