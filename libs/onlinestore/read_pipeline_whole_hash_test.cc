// ReadPipeline reading hashes whole (HashGet::whole_hash, HGETALL) against a real Redis: the
// read sees exactly what an HMGET gives, in the get's order; whole and by-field reads share a
// round trip; a user refused HGETALL reads by field; a deadline passing while Redis stalls is
// kept.
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/onlinestore/read_pipeline.h"
#include "libs/onlinestore/test_read.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::onlinestore {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Optional;

// How many times Redis ran `command` (INFO commandstats); -1 when INFO failed.
int64_t Calls(redis::Client& admin, const std::string& command) {
  auto info = admin.Command({"INFO", "commandstats"});
  if (!info.ok()) return -1;
  const std::string tag = absl::StrCat("cmdstat_", command, ":calls=");
  size_t at = info->str.find(tag);
  return at == std::string::npos ? 0
                                 : std::strtoll(info->str.c_str() + at + tag.size(), nullptr, 10);
}

class WholeHashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    admin_ = std::make_unique<redis::Client>(OptionsFor(*redis_));
    std::vector<std::string> hset = {"HSET", "wide"};
    for (int i = 0; i < 20; ++i) {
      hset.push_back(absl::StrCat("f", i));
      hset.push_back(absl::StrCat("v", i));
    }
    ASSERT_OK(admin_->Command(hset).status());
    for (int i = 0; i < 30; ++i) {
      ASSERT_OK(admin_
                    ->Command({"HSET", absl::StrCat("k", i), "a", absl::StrCat("a", i), "b",
                               absl::StrCat("b", i)})
                    .status());
    }
  }

  ReadPipelineOptions Options() {
    return {.redis = OptionsFor(*redis_),
            .read_on_caller_when_idle = false,
            .on_round_trip = RecordLargestBatch(&largest_batch_)};
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<redis::Client> admin_;
  std::atomic<int64_t> largest_batch_{0};
};

TEST_F(WholeHashTest, AHashReadWholeGivesWhatAnHmgetGivesInTheGetsOrder) {
  ASSERT_OK(admin_->Command({"HSET", "empty-value", "f3", ""}).status());
  ASSERT_OK(admin_->Command({"SET", "plain-string", "x"}).status());
  // Fields out of the hash's order, one it lacks, one of another hash's; keys missing, of
  // another type, with an empty value.
  const std::vector<std::string> keys = {"wide", "missing", "plain-string", "k1", "empty-value"};
  const std::vector<std::string> fields = {"f17", "nope", "f3", "a", "f0"};
  ReadPipeline pipeline(Options());
  TestRead by_field(keys, fields), whole(keys, fields);
  whole.ReadWhole();
  const int64_t hgetalls = Calls(*admin_, "hgetall");
  pipeline.Submit(&by_field);
  ASSERT_TRUE(by_field.Wait());
  pipeline.Submit(&whole);
  ASSERT_TRUE(whole.Wait());
  ASSERT_OK(by_field.status());
  ASSERT_OK(whole.status());
  EXPECT_EQ(Calls(*admin_, "hgetall"), hgetalls + 5);  // one per get
  EXPECT_THAT(whole.values(0),
              ElementsAre(Optional(std::string("v17")), std::nullopt, Optional(std::string("v3")),
                          std::nullopt, Optional(std::string("v0"))));
  for (size_t get = 0; get < keys.size(); ++get) {
    EXPECT_EQ(whole.values(get), by_field.values(get)) << keys[get];
    // Every field once, absent ones included; none for the key that is not a hash.
    EXPECT_EQ(whole.field_calls(get), get == 2 ? 0 : 5) << keys[get];
    EXPECT_EQ(whole.field_calls(get), by_field.field_calls(get)) << keys[get];
  }
  EXPECT_THAT(whole.values(4)[2], Optional(std::string("")));
  EXPECT_THAT(whole.get_errors(),
              ElementsAre(::testing::Pair(2, ::testing::HasSubstr("WRONGTYPE"))));
  EXPECT_EQ(whole.get_errors(), by_field.get_errors());
}

TEST_F(WholeHashTest, WholeHashAndFieldReadsShareARoundTrip) {
  auto owned = std::make_unique<ReadPipeline>(Options());
  absl::Notification holding, queued;
  TestRead first({"k0"}, {"a"});
  first.set_on_field([&] {
    holding.Notify();
    queued.WaitForNotification();
  });
  owned->Submit(&first);
  holding.WaitForNotification();
  const int64_t hgetalls = Calls(*admin_, "hgetall");
  std::vector<std::unique_ptr<TestRead>> reads;
  for (int i = 1; i <= 10; ++i) {
    reads.push_back(std::make_unique<TestRead>(
        std::vector<std::string>{absl::StrCat("k", i), absl::StrCat("k", i + 10)},
        std::vector<std::string>{"b", "a"}));
    if (i % 2 == 0) reads.back()->ReadWhole();
    owned->Submit(reads.back().get());
  }
  queued.Notify();
  for (int i = 1; i <= 10; ++i) {
    TestRead& r = *reads[i - 1];
    ASSERT_TRUE(r.Wait());
    ASSERT_OK(r.status());
    for (int get = 0; get < 2; ++get) {
      const int k = i + 10 * get;
      EXPECT_THAT(r.values(get),
                  ElementsAre(Optional(absl::StrCat("b", k)), Optional(absl::StrCat("a", k))))
          << "read " << i << " get " << get;
    }
  }
  owned.reset();
  EXPECT_EQ(largest_batch_.load(), 20);
  EXPECT_EQ(Calls(*admin_, "hgetall"), hgetalls + 10);  // the 5 whole reads' 2 gets each
}

TEST_F(WholeHashTest, AWholeReadWhoseDeadlinePassesWhileRedisStallsIsAnsweredOnceAndOnTime) {
  ReadPipeline pipeline(Options());
  TestRead warm({"k0"}, {"a"});  // connects before the pause
  pipeline.Submit(&warm);
  ASSERT_TRUE(warm.Wait());
  ASSERT_OK(warm.status());
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "1000", "ALL"}).status());
  const absl::Time pause_over = absl::Now() + absl::Seconds(1);
  TestRead hasty({"wide", "k1", "k2"}, {"f1", "a"}, absl::Milliseconds(200));
  hasty.ReadWhole();
  pipeline.Submit(&hasty);
  ASSERT_TRUE(hasty.Wait());
  EXPECT_THAT(hasty.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(hasty.done_at(), pause_over);  // answered at its deadline, not when Redis came back
  // Its replies come after the pause and are dropped (TestRead fails on a field after Done);
  // the next whole read gets its own.
  TestRead next({"wide"}, {"f2", "f1"});
  next.ReadWhole();
  pipeline.Submit(&next);
  ASSERT_TRUE(next.Wait());
  ASSERT_OK(next.status());
  EXPECT_THAT(next.values(0),
              ElementsAre(Optional(std::string("v2")), Optional(std::string("v1"))));
}

// The batch that learns it fails (UNAVAILABLE, naming the refusal); every later one is read by
// field.
TEST(WholeHashAclTest, AUserRefusedHgetallReadsByFieldFromTheNextBatchOn) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start({.config_lines = {
                                                           "user reader on >s3cret ~* +ping +hmget",
                                                       }}));
  redis::Client admin(OptionsFor(*redis));
  ASSERT_OK(admin.Command({"HSET", "h", "a", "1", "b", "2"}).status());
  redis::RedisOptions reader = OptionsFor(*redis);
  reader.user = "reader";
  reader.password = config::Secret::FromValue("s3cret");
  ReadPipeline pipeline({.redis = reader, .read_on_caller_when_idle = false});
  TestRead refused({"h"}, {"b", "a"});
  refused.ReadWhole();
  pipeline.Submit(&refused);
  ASSERT_TRUE(refused.Wait());
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kUnavailable,
                                         ::testing::HasSubstr("refused HGETALL: NOPERM")));
  const int64_t hmgets = Calls(admin, "hmget");
  TestRead read({"h", "missing"}, {"b", "a"});
  read.ReadWhole();
  pipeline.Submit(&read);
  ASSERT_TRUE(read.Wait());
  ASSERT_OK(read.status());
  EXPECT_THAT(read.values(0), ElementsAre(Optional(std::string("2")), Optional(std::string("1"))));
  EXPECT_THAT(read.values(1), ElementsAre(std::nullopt, std::nullopt));
  EXPECT_EQ(Calls(admin, "hmget"), hmgets + 2);
}

}  // namespace
}  // namespace granary::onlinestore
