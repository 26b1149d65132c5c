// `granary deadletter` end to end: rows the offline table refuses are dead-lettered alone
// (the rest of the batch is stored), then listed with filters, shown, replayed once the table
// takes them (stored exactly once, however often replayed), and purged.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "tests/integration/ingestion_harness.h"

namespace granary::integration {
namespace {

using ingestion::v1::ONLINE_AND_OFFLINE;
using testing::Eventually;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(60);

struct Ran {
  int exit_code = -1;
  std::string output;
};

class DeadLetterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(h_, IngestionHarness::Start());
    ASSERT_OK(h_->stack().postgres().Execute(
        "ALTER TABLE driver_stats ADD CONSTRAINT no_negative CHECK (avg_daily_trips >= 0)",
        "granary"));
  }
  Ran Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {"tools/cli/granary", "deadletter"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(absl::StrCat("--materializer=", h_->materializer(0).address()));
    Ran ran;
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> p =
        testing::Subprocess::Start({.argv = argv});
    EXPECT_OK(p);
    if (!p.ok()) return ran;
    absl::StatusOr<int> status = (*p)->Wait(absl::Seconds(60));
    EXPECT_OK(status);
    ran.exit_code = status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    ran.output = (*p)->Output();
    return ran;
  }

  std::unique_ptr<IngestionHarness> h_;
};

TEST_F(DeadLetterCliTest, ListShowReplayAndPurge) {
  const absl::Time now = h_->Now();
  ASSERT_TRUE(h_->Push(h_->Request("mixed",
                                   {{1, now, 1}, {2, now, -1}, {3, now, 3}, {4, now, -2}, {5, now, 5}},
                                   ONLINE_AND_OFFLINE))
                  .ok());
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::vector<events::v1::DeadLetter>> letters = h_->DeadLetters();
        return letters.ok() && letters->size() == 1;
      },
      kWait));
  // The rows the table takes are stored; the two it refuses are the letter.
  EXPECT_EQ(h_->Count("SELECT count(*) FROM driver_stats"), 3);

  Ran list = Cli({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  nlohmann::json listed = nlohmann::json::parse(list.output);
  ASSERT_EQ(listed["letters"].size(), 1u);
  const nlohmann::json& letter = listed["letters"][0];
  EXPECT_EQ(letter["consumer"], "offline-writer");
  EXPECT_EQ(letter["project"], "driver_stats");
  EXPECT_EQ(letter["feature_view"], "driver_hourly_stats");
  EXPECT_EQ(letter["rows"], "2");  // int64 in proto JSON
  EXPECT_EQ(letter["partial"], true);
  EXPECT_THAT(letter["reason"].get<std::string>(), HasSubstr("check constraint"));
  const std::string seq = letter["sequence"].get<std::string>();

  // Filters.
  EXPECT_THAT(Cli({"list", "--consumer", "online-writer"}).output, HasSubstr("no dead letters"));
  EXPECT_THAT(Cli({"list", "--reason", "no_negative"}).output, HasSubstr("offline-writer"));
  EXPECT_THAT(Cli({"list", "--project", "elsewhere"}).output, HasSubstr("no dead letters"));
  EXPECT_THAT(Cli({"list", "--view", "driver_hourly_stats"}).output, HasSubstr("offline-writer"));
  EXPECT_THAT(Cli({"list", "--view", "other_view"}).output, HasSubstr("no dead letters"));
  EXPECT_THAT(Cli({"list", "--since", "now-1h"}).output, HasSubstr("offline-writer"));
  EXPECT_THAT(Cli({"list", "--until", "now-1h"}).output, HasSubstr("no dead letters"));
  EXPECT_EQ(Cli({"list", "--since", "yesterday-ish"}).exit_code, 2);

  Ran show = Cli({"show", seq});
  ASSERT_EQ(show.exit_code, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr("2 of 5 rows not written"));
  EXPECT_THAT(show.output, HasSubstr("the rows refused; the rest of the batch was written"));
  EXPECT_THAT(show.output, HasSubstr("int64_val: -2"));
  EXPECT_EQ(Cli({"show", "99999"}).exit_code, 1);

  // The table is fixed; the replay stores the two rows, once however often it runs.
  ASSERT_OK(h_->stack().postgres().Execute(
      "ALTER TABLE driver_stats DROP CONSTRAINT no_negative", "granary"));
  // Like a purge, a replay of everything must be asked for (--all), not had by accident.
  Ran unfiltered = Cli({"replay"});
  EXPECT_EQ(unfiltered.exit_code, 2) << unfiltered.output;
  EXPECT_THAT(unfiltered.output, HasSubstr("or --all"));
  Ran replay = Cli({"replay", "--project", "driver_stats"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, HasSubstr("replayed 1 dead letters"));
  ASSERT_TRUE(
      Eventually([&] { return h_->Count("SELECT count(*) FROM driver_stats") == 5; }, kWait));
  Ran again = Cli({"replay", seq});
  EXPECT_THAT(again.output, HasSubstr("1 replayed before"));
  // A later batch shows the writer is past the second replay: still five rows.
  ASSERT_TRUE(h_->Push(h_->Request("later", {{6, now, 6}}, ONLINE_AND_OFFLINE)).ok());
  ASSERT_TRUE(
      Eventually([&] { return h_->Count("SELECT count(*) FROM driver_stats") == 6; }, kWait));
  EXPECT_EQ(h_->Count("SELECT count(*) FROM driver_stats WHERE driver_id IN (2, 4)"), 2);

  // Letters stay until purged; a purge needs a filter or --all.
  EXPECT_THAT(Cli({"list"}).output, HasSubstr("offline-writer"));
  EXPECT_EQ(Cli({"purge"}).exit_code, 2);
  EXPECT_THAT(Cli({"purge", "--all"}).output, HasSubstr("purged 1 dead letters"));
  EXPECT_THAT(Cli({"list"}).output, HasSubstr("no dead letters"));
}

}  // namespace
}  // namespace granary::integration
