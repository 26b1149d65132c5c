// `granary verify`'s Redis and NATS checks against real servers set up as deploy/ says: they
// pass for the users of deploy/redis/users.acl and deploy/nats/nats.conf, and fail, with a
// line that names the credential, when a password is wrong, a user lacks a permission it needs
// or has one it must not, or the server lets anyone in. (PostgreSQL's checks are exercised the
// same way by tests/e2e:local_stack_test.)
#include "tools/cli/verify_checks.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/streams.h"
#include "libs/redis/connection.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "12e4-test-password";

std::string Report(const cli::VerifyReport& report) {
  std::ostringstream out;
  report.Print(out);
  return out.str();
}

// deploy/redis/users.acl's users with the test's password; `replace` edits the file's lines
// first (a broken deployment); the default user as the file says (off) unless `default_on`.
std::vector<std::string> AclLines(std::vector<std::pair<std::string, std::string>> replace = {},
                                  bool default_on = false) {
  std::ifstream in("deploy/redis/users.acl");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "user ")) continue;
    for (const auto& [from, to] : replace) line = absl::StrReplaceAll(line, {{from, to}});
    if (absl::StartsWith(line, "user default ")) {
      if (default_on) line = "user default on nopass ~* &* +@all";
    } else {
      absl::StrAppend(&line, " >", kPassword);
    }
    lines.push_back(line);
  }
  return lines;
}

redis::RedisOptions RedisAs(const RedisServer& server, const std::string& user,
                            const std::string& password = kPassword) {
  redis::RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  o.user = user;
  o.password = config::Secret::FromValue(password);
  return o;
}

TEST(VerifyRedisTest, TheFilesUsersPassAndNothingRuns) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start({.config_lines = AclLines()}));
  // A key that a FLUSHALL, FLUSHDB or DEL that ran would take away.
  ASSERT_OK_AND_ASSIGN(auto writer, redis::Connection::Open(RedisAs(*redis, "granary-writer")));
  ASSERT_OK(writer->Command({"HSET", "granary:verify:sentinel", "f", "kept"}).status());
  cli::VerifyReport report;
  cli::VerifyRedis("serving", RedisAs(*redis, "granary-serving"), cli::RedisRole::kReader, &report);
  cli::VerifyRedis("materializer", RedisAs(*redis, "granary-writer"), cli::RedisRole::kWriter,
                   &report);
  const std::string out = Report(report);
  EXPECT_FALSE(report.failed()) << out;
  EXPECT_THAT(out, HasSubstr("PASS  redis     serving's user granary-serving may only read"));
  EXPECT_THAT(out, HasSubstr("granary-writer may run the online store's writes and no more"));
  // The probes were only queued: the key they name was never written, nothing was flushed or
  // deleted.
  ASSERT_OK_AND_ASSIGN(redis::Reply absent,
                       writer->Command({"HMGET", "granary:verify:absent", "f"}));
  ASSERT_EQ(absent.elements.size(), 1u);
  EXPECT_TRUE(absent.elements[0].is_nil());
  ASSERT_OK_AND_ASSIGN(redis::Reply kept,
                       writer->Command({"HGET", "granary:verify:sentinel", "f"}));
  EXPECT_EQ(kept.str, "kept");
}

TEST(VerifyRedisTest, AWrongPasswordMoreOrLessThanNeededAndAnOpenDoorFail) {
  // Serving may also SET but lost HGETALL; the writer lost HSET; the default user lets anyone in.
  ASSERT_OK_AND_ASSIGN(auto redis,
                       RedisServer::Start({.config_lines = AclLines(
                                               {{"+hgetall +multi", "+set +multi"}, {"+hset ", ""}},
                                               /*default_on=*/true)}));
  cli::VerifyReport report;
  cli::VerifyRedis("serving", RedisAs(*redis, "granary-serving"), cli::RedisRole::kReader, &report);
  cli::VerifyRedis("materializer", RedisAs(*redis, "granary-writer"), cli::RedisRole::kWriter,
                   &report);
  cli::VerifyRedis("serving", RedisAs(*redis, "granary-serving", "wrong"), cli::RedisRole::kReader,
                   &report);
  const std::string out = Report(report);
  EXPECT_TRUE(report.failed());
  EXPECT_THAT(out, HasSubstr("FAIL  redis     serving's user granary-serving may run SET: more "
                             "than reading needs"));
  EXPECT_THAT(out, HasSubstr("FAIL  redis     serving's user granary-serving may not run HGETALL"));
  EXPECT_THAT(out,
              HasSubstr("FAIL  redis     materializer's user granary-writer may not run HSET"));
  EXPECT_THAT(out, HasSubstr("answers a client without a user or password"));
  EXPECT_THAT(out, HasSubstr("FAIL  redis     serving's user granary-serving cannot log in"));
  EXPECT_THAT(out, Not(HasSubstr(kPassword)));
}

class VerifyNatsTest : public ::testing::Test {
 protected:
  // nats.conf as deploy/ has it, or edited (a broken deployment).
  std::unique_ptr<NatsServer> Start(const std::vector<std::pair<std::string, std::string>>& edits) {
    std::ifstream in("deploy/nats/nats.conf");
    std::stringstream text;
    text << in.rdbuf();
    auto dir = TempDir::Create("nats-conf");
    EXPECT_OK(dir);
    const std::string conf = dir->path() + "/nats.conf";
    std::ofstream(conf) << absl::StrReplaceAll(text.str(), edits);
    dirs_.push_back(std::move(*dir));
    NatsServerOptions options{.config_file = conf};
    for (const char* s : {"REGISTRY", "SERVING", "INGESTION", "MATERIALIZER", "GATEWAY"}) {
      options.env.push_back(absl::StrCat("GRANARY_NATS_", s, "_PASSWORD=\"", kPassword, "\""));
    }
    auto server = NatsServer::Start(options);
    EXPECT_OK(server);
    return server.ok() ? *std::move(server) : nullptr;
  }
  bus::NatsOptions As(const NatsServer& server, const std::string& service,
                      const std::string& password = kPassword) {
    bus::NatsOptions o;
    o.url = server.url();
    o.user = absl::StrCat("granary-", service);
    o.password = config::Secret::FromValue(password);
    return o;
  }
  std::vector<TempDir> dirs_;
};

TEST_F(VerifyNatsTest, EveryUserOfTheFilePasses) {
  auto nats = Start({});
  ASSERT_NE(nats, nullptr);
  // The streams exist, as in a running deployment: verify's publishes must store nothing.
  ASSERT_OK_AND_ASSIGN(auto connection, bus::Connection::Open(As(*nats, "materializer")));
  ASSERT_TRUE(connection->WaitConnected(absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(auto js, bus::JetStream::Create(connection));
  ASSERT_OK(bus::DeclareStreams(*js, bus::JetStreamSettings{}).status());
  cli::VerifyReport report;
  for (const char* service : {"registry", "serving", "ingestion", "materializer", "gateway"}) {
    cli::VerifyNats(service, As(*nats, service), &report);
  }
  const std::string out = Report(report);
  EXPECT_FALSE(report.failed()) << out;
  EXPECT_THAT(out, HasSubstr("refuses a client without a user"));
  EXPECT_THAT(out, HasSubstr("PASS  nats      ingestion's user granary-ingestion may publish to "
                             "granary.push.verify.verify"));
  EXPECT_THAT(out, HasSubstr("granary-materializer may publish to granary.tasks.verify"));
  for (const char* stream : {bus::kPushStream, bus::kTaskStream, bus::kCleanupStream}) {
    ASSERT_OK_AND_ASSIGN(bus::StreamState state, js->GetStreamState(stream));
    EXPECT_EQ(state.messages, 0u) << stream << " got verify's probe";
  }
  EXPECT_THAT(out,
              HasSubstr("PASS  nats      ingestion's user granary-ingestion reaches JetStream"));
  EXPECT_THAT(out, HasSubstr("PASS  nats      serving's user granary-serving may watch catalog "
                             "changes"));
  EXPECT_THAT(out, HasSubstr("granary-serving may not subscribe to _INBOX.>"));
}

TEST_F(VerifyNatsTest, AWrongPasswordAndPermissionsTooBroadOrTooNarrowFail) {
  // Ingestion may publish anywhere; serving may not watch catalog changes.
  auto nats = Start({{"\"granary.push.>\",", "\">\","},
                     {"subscribe: { allow: [\"granary.registry.changed.>\"] }\n      }\n    }\n"
                      "    # The gateway",
                      "subscribe: { allow: [\"nothing.>\"] }\n      }\n    }\n    # The gateway"}});
  ASSERT_NE(nats, nullptr);
  cli::VerifyReport report;
  cli::VerifyNats("ingestion", As(*nats, "ingestion"), &report);
  cli::VerifyNats("serving", As(*nats, "serving"), &report);
  cli::VerifyNats("registry", As(*nats, "registry", "wrong"), &report);
  const std::string out = Report(report);
  EXPECT_TRUE(report.failed());
  EXPECT_THAT(out, HasSubstr("FAIL  nats      ingestion's user granary-ingestion may publish to "
                             "granary.verify.ingestion: its permissions reach beyond its own"));
  EXPECT_THAT(out, HasSubstr("FAIL  nats      serving's user granary-serving may not watch "
                             "granary.registry.changed.>"));
  EXPECT_THAT(out, HasSubstr("FAIL  nats      registry's user granary-registry cannot log in"));
  EXPECT_THAT(out, Not(HasSubstr(kPassword)));
}

}  // namespace
}  // namespace granary::testing
