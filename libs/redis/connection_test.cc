#include "libs/redis/connection.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <hiredis/hiredis.h>

#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::redis {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

RedisOptions OptionsFor(const RedisServer& server) {
  RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  return o;
}

TEST(ConnectionTest, CommandsAreBinarySafe) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  std::string key("k\0ey", 4);
  std::string value("\x01\x00\xff", 3);
  ASSERT_OK_AND_ASSIGN(Reply set, conn->Command({"SET", key, value}));
  EXPECT_EQ(set.type, Reply::Type::kStatus);
  ASSERT_OK_AND_ASSIGN(Reply get, conn->Command({"GET", key}));
  EXPECT_EQ(get.type, Reply::Type::kString);
  EXPECT_EQ(get.str, value);
  ASSERT_OK_AND_ASSIGN(Reply missing, conn->Command({"GET", "nope"}));
  EXPECT_TRUE(missing.is_nil());
}

TEST(ConnectionTest, PipelineReturnsRepliesInOrder) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  ASSERT_OK_AND_ASSIGN(std::vector<Reply> replies,
                       conn->Pipeline({{"HSET", "h", "a", "1", "b", "2"},
                                       {"HMGET", "h", "a", "b", "c"},
                                       {"INCRBY", "n", "5"},
                                       {"HGET"}}));
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].integer, 2);
  ASSERT_EQ(replies[1].type, Reply::Type::kArray);
  ASSERT_EQ(replies[1].elements.size(), 3u);
  EXPECT_EQ(replies[1].elements[0].str, "1");
  EXPECT_EQ(replies[1].elements[1].str, "2");
  EXPECT_TRUE(replies[1].elements[2].is_nil());
  EXPECT_EQ(replies[2].integer, 5);
  // A bad command is an error reply in its slot; the connection stays usable.
  EXPECT_TRUE(replies[3].is_error());
  EXPECT_THAT(ReplyStatus(replies[3]), StatusIs(absl::StatusCode::kInternal));
  EXPECT_FALSE(conn->broken());
}

TEST(ConnectionTest, AuthenticatesAsAclUser) {
  ASSERT_OK_AND_ASSIGN(
      auto server, RedisServer::Start({.config_lines = {"user reader on >readpw ~* +@read +ping",
                                                        "user default off"}}));
  RedisOptions o = OptionsFor(*server);
  o.user = "reader";
  o.password = config::Secret::FromValue("readpw");
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(o));
  ASSERT_OK_AND_ASSIGN(Reply get, conn->Command({"GET", "x"}));
  EXPECT_TRUE(get.is_nil());
  ASSERT_OK_AND_ASSIGN(Reply set, conn->Command({"SET", "x", "1"}));
  EXPECT_THAT(ReplyStatus(set), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NOPERM")));

  o.password = config::Secret::FromValue("wrong");
  EXPECT_THAT(Connection::Open(o),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("authentication as reader")));
}

TEST(ConnectionTest, UnreachableServerIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  RedisOptions o = OptionsFor(*server);
  ASSERT_OK(server->Stop());
  EXPECT_THAT(Connection::Open(o), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ConnectionTest, ServerGoingAwayBreaksTheConnection) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  ASSERT_OK(server->Stop());
  EXPECT_THAT(conn->Command({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(conn->broken());
}

TEST(ConnectionTest, SlowCommandTimesOut) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  RedisOptions o = OptionsFor(*server);
  o.command_timeout = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(o));
  // The server blocks for 2 s; the client gives up after 100 ms.
  EXPECT_THAT(conn->Command({"BLPOP", "empty-list", "2"}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(conn->broken());
}

// SetDeadline leaves the socket alone when the bound it would set is the one already there:
// a shorter deadline must still cut a read short, and a longer one after it must lift the
// shorter bound again.
TEST(ConnectionTest, EachDeadlineBoundsTheReadsAfterIt) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  RedisOptions o = OptionsFor(*server);
  o.command_timeout = absl::Seconds(30);
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(o));
  // The bound Open set, asked again: nothing changes, the command answers.
  ASSERT_OK(conn->SetDeadline(absl::Now() + absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(Reply pong, conn->Command({"PING"}));
  EXPECT_EQ(pong.str, "PONG");
  // A short deadline after it: the blocked read gives up long before the server's 20 s.
  ASSERT_OK(conn->SetDeadline(absl::Now() + absl::Milliseconds(100)));
  absl::Time start = absl::Now();
  EXPECT_THAT(conn->Command({"BLPOP", "empty-list", "20"}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));

  // A new connection: a short deadline, then the long one again. The server's 1 s block
  // outlasts the short bound, so the reply arrives only if the long one was put back.
  ASSERT_OK_AND_ASSIGN(conn, Connection::Open(o));
  ASSERT_OK(conn->SetDeadline(absl::Now() + absl::Milliseconds(100)));
  ASSERT_OK(conn->SetDeadline(absl::Now() + absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(Reply nil, conn->Command({"BLPOP", "empty-list", "1"}));
  EXPECT_TRUE(nil.is_nil());
  EXPECT_FALSE(conn->broken());
}

TEST(ConnectionTest, ReadRawUntilWaitsWithoutBreakingTheConnection) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  ASSERT_OK_AND_ASSIGN(auto other, Connection::Open(OptionsFor(*server)));
  const char* argv[] = {"BLPOP", "queue", "0"};
  const size_t lens[] = {5, 5, 1};
  ASSERT_OK(conn->Append(3, argv, lens));
  ASSERT_OK(conn->Flush());
  std::string popped;
  auto read = [&](const redisReply& r) {
    ASSERT_EQ(r.type, REDIS_REPLY_ARRAY);
    ASSERT_EQ(r.elements, 2u);
    popped.assign(r.element[1]->str, r.element[1]->len);
  };
  // Nothing to pop yet: the wait ends empty-handed and the connection is still good.
  ASSERT_OK_AND_ASSIGN(bool got, conn->ReadRawUntil(absl::Now() + absl::Milliseconds(50), read));
  EXPECT_FALSE(got);
  EXPECT_FALSE(conn->broken());
  ASSERT_OK(other->Command({"RPUSH", "queue", "item"}).status());
  ASSERT_OK_AND_ASSIGN(got, conn->ReadRawUntil(absl::Now() + absl::Seconds(10), read));
  EXPECT_TRUE(got);
  EXPECT_EQ(popped, "item");
  ASSERT_OK_AND_ASSIGN(Reply pong, conn->Command({"PING"}));
  EXPECT_EQ(pong.str, "PONG");
}

TEST(ConnectionTest, ReadRawUntilSeesTheServerGo) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  const char* argv[] = {"BLPOP", "queue", "0"};
  const size_t lens[] = {5, 5, 1};
  ASSERT_OK(conn->Append(3, argv, lens));
  ASSERT_OK(conn->Flush());
  ASSERT_OK(server->Stop());
  EXPECT_THAT(conn->ReadRawUntil(absl::Now() + absl::Seconds(10), [](const redisReply&) {}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(conn->broken());
}

// Records what a streamed reply brought.
class RecordingSink : public ReplySink {
 public:
  void OnReply(int type, const char* data, size_t size) override {
    events.push_back(
        absl::StrCat("reply ", type, " ", data == nullptr ? "" : std::string(data, size)));
  }
  void OnArray(size_t elements) override { events.push_back(absl::StrCat("array ", elements)); }
  void OnElement(size_t index, int type, const char* data, size_t size) override {
    if (type == REDIS_REPLY_STRING) {
      elements[index] = std::string(data, size);
    } else {
      events.push_back(absl::StrCat("element ", index, " type ", type));
    }
  }
  std::vector<std::string> events;
  std::map<size_t, std::string> elements;
};

TEST(ConnectionTest, StreamedRepliesBuildNothingAndArriveWhole) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  // Big enough to arrive over many reads.
  std::vector<std::string> hset = {"HSET", "h"};
  std::vector<std::string> hmget = {"HMGET", "h"};
  for (int i = 0; i < 3000; ++i) {
    hset.push_back(absl::StrCat("f", i));
    hset.push_back(std::string(40, static_cast<char>('a' + i % 26)));
    hmget.push_back(absl::StrCat("f", i));
  }
  hmget.push_back("missing");
  ASSERT_OK(conn->Command(hset).status());
  ASSERT_OK(conn->Command({"SET", "plain", "x"}).status());

  RecordingSink sink;
  conn->SetReplySink(&sink);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : hmget) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  ASSERT_OK(conn->Append(static_cast<int>(argv.size()), argv.data(), lens.data()));
  const char* bad[] = {"HMGET", "plain", "f"};
  const size_t bad_lens[] = {5, 5, 1};
  ASSERT_OK(conn->Append(3, bad, bad_lens));
  ASSERT_OK(conn->Flush());
  ASSERT_OK_AND_ASSIGN(bool got, conn->ReadStreamedUntil(absl::Now() + absl::Seconds(10)));
  ASSERT_TRUE(got);
  ASSERT_EQ(sink.elements.size(), 3000u);
  EXPECT_EQ(sink.elements[2999], std::string(40, static_cast<char>('a' + 2999 % 26)));
  EXPECT_THAT(sink.events, ::testing::ElementsAre(
                               "array 3001", absl::StrCat("element 3000 type ", REDIS_REPLY_NIL)));
  sink.events.clear();
  ASSERT_OK_AND_ASSIGN(got, conn->ReadStreamedUntil(absl::Now() + absl::Seconds(10)));
  ASSERT_TRUE(got);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_THAT(sink.events[0], HasSubstr("WRONGTYPE"));
  // Nothing more: the wait ends empty-handed, the connection still good.
  ASSERT_OK_AND_ASSIGN(got, conn->ReadStreamedUntil(absl::Now() + absl::Milliseconds(20)));
  EXPECT_FALSE(got);
  conn->SetReplySink(nullptr);
  ASSERT_OK_AND_ASSIGN(Reply pong, conn->Command({"PING"}));
  EXPECT_EQ(pong.str, "PONG");
}

}  // namespace
}  // namespace granary::redis
