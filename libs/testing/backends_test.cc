// libs/testing really starts, uses and stops Redis, PostgreSQL and NATS, and leaves nothing.
#include <signal.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include <hiredis/hiredis.h>
#include <nats/nats.h>
#include <postgresql/libpq-fe.h>

#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::testing {
namespace {

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

std::string RedisRoundTrip(int port, const std::string& value) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) {
    std::string err = c ? c->errstr : "no context";
    if (c) redisFree(c);
    return "error: " + err;
  }
  auto* set = static_cast<redisReply*>(redisCommand(c, "SET k %s", value.c_str()));
  freeReplyObject(set);
  auto* get = static_cast<redisReply*>(redisCommand(c, "GET k"));
  std::string out = get && get->type == REDIS_REPLY_STRING ? get->str : "missing";
  freeReplyObject(get);
  redisFree(c);
  return out;
}

TEST(BackendsTest, RedisStartsServesRestartsAndStops) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
  EXPECT_EQ(RedisRoundTrip(redis->port(), "v1"), "v1");
  int port = redis->port();
  pid_t first = redis->pid();

  ASSERT_OK(redis->Stop());
  EXPECT_FALSE(ProcessGroupAlive(first));
  EXPECT_NE(RedisRoundTrip(port, "x").rfind("error", 0), std::string::npos);

  ASSERT_OK(redis->Restart());
  EXPECT_EQ(redis->port(), port);
  EXPECT_EQ(RedisRoundTrip(port, "v2"), "v2");
  pid_t second = redis->pid();
  redis.reset();
  EXPECT_FALSE(ProcessGroupAlive(second));
}

TEST(BackendsTest, TwoRedisServersGetTheirOwnPorts) {
  ASSERT_OK_AND_ASSIGN(auto a, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto b, RedisServer::Start());
  EXPECT_NE(a->port(), b->port());
  EXPECT_EQ(RedisRoundTrip(a->port(), "a"), "a");
  EXPECT_EQ(RedisRoundTrip(b->port(), "b"), "b");
}

TEST(BackendsTest, RedisConfigLinesApply) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start({.config_lines = {"requirepass sesame"}}));
  redisContext* c = redisConnect("127.0.0.1", redis->port());
  ASSERT_TRUE(c != nullptr && !c->err);
  auto* denied = static_cast<redisReply*>(redisCommand(c, "GET k"));
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->type, REDIS_REPLY_ERROR);
  freeReplyObject(denied);
  auto* auth = static_cast<redisReply*>(redisCommand(c, "AUTH sesame"));
  EXPECT_EQ(auth->type, REDIS_REPLY_STATUS);
  freeReplyObject(auth);
  redisFree(c);
}

TEST(BackendsTest, PostgresStartsServesKeepsDataAcrossRestartAndStops) {
  ASSERT_OK_AND_ASSIGN(auto pg, PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("t"));
  ASSERT_OK(
      pg->Execute("CREATE TABLE kv (k text primary key, v int); INSERT INTO kv VALUES "
                  "('a', 1)",
                  "t"));
  pid_t first = pg->pid();
  ASSERT_OK(pg->Stop());
  EXPECT_FALSE(ProcessGroupAlive(first));
  EXPECT_THAT(pg->Execute("SELECT 1", "t"), StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(pg->Restart());
  PGconn* conn = PQconnectdb(pg->ConnInfo("t").c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* res = PQexec(conn, "SELECT v FROM kv WHERE k = 'a'");
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
  ASSERT_EQ(PQntuples(res), 1);
  EXPECT_STREQ(PQgetvalue(res, 0, 0), "1");
  PQclear(res);
  PQfinish(conn);

  pid_t second = pg->pid();
  pg.reset();
  EXPECT_FALSE(ProcessGroupAlive(second));
}

TEST(BackendsTest, NatsWithJetStreamStartsKeepsStreamsAcrossRestartAndStops) {
  ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
  natsConnection* conn = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&conn, nats->url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, conn, nullptr), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "TEST";
  const char* subjects[] = {"test.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(nullptr, js, &cfg, nullptr, &jerr), NATS_OK);
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_Publish(&ack, js, "test.a", "hello", 5, nullptr, &jerr), NATS_OK);
  EXPECT_EQ(ack->Sequence, 1u);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(conn);

  pid_t first = nats->pid();
  ASSERT_OK(nats->Restart());
  EXPECT_FALSE(Alive(first));

  ASSERT_EQ(natsConnection_ConnectTo(&conn, nats->url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, conn, nullptr), NATS_OK);
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, js, "TEST", nullptr, &jerr), NATS_OK);
  EXPECT_EQ(info->State.Msgs, 1u);
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  natsConnection_Destroy(conn);

  pid_t second = nats->pid();
  nats.reset();
  EXPECT_FALSE(ProcessGroupAlive(second));
}

}  // namespace
}  // namespace granary::testing
