#include "tools/cli/historical_command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(EntityTableFromCsvTest, TimesBecomeTheRowsTimesAndTheRestKeepsItsOrderAndTypes) {
  ASSERT_OK_AND_ASSIGN(auto table, EntityTableFromCsv("driver_id,event_timestamp,label,city\n"
                                                      "1001,now-2h,1,\"Paris, FR\"\n"
                                                      "1002,2026-11-21T10:00:00.5Z,,Lyon\n",
                                                      "event_timestamp", kNow));
  EXPECT_THAT(table.column_order(), ElementsAre("driver_id", "label", "city"));
  ASSERT_EQ(table.event_timestamps_size(), 2);
  EXPECT_EQ(base::FromProtoTime(table.event_timestamps(0)), kNow - absl::Hours(2));
  EXPECT_EQ(base::FromProtoTime(table.event_timestamps(1)),
            absl::FromUnixMillis(1'795'255'200'500));
  EXPECT_EQ(table.columns().at("driver_id").val(1).int64_val(), 1002);
  EXPECT_EQ(table.columns().at("label").val(0).int64_val(), 1);
  EXPECT_TRUE(table.columns().at("label").val(1).has_null_val());
  EXPECT_EQ(table.columns().at("city").val(0).string_val(), "Paris, FR");
}

TEST(EntityTableFromCsvTest, JoinKeysAreTypedAsTheirEntitiesDeclare) {
  // A STRING entity whose values look like numbers keeps them as written.
  ASSERT_OK_AND_ASSIGN(auto table, EntityTableFromCsv("zip,event_timestamp\n00123,now\n75001,now\n",
                                                      "event_timestamp", kNow,
                                                      {{"zip", types::v1::ValueType::STRING}}));
  EXPECT_EQ(table.columns().at("zip").val(0).string_val(), "00123");
  EXPECT_EQ(table.columns().at("zip").val(1).string_val(), "75001");
  EXPECT_THAT(EntityTableFromCsv("driver_id,event_timestamp\n1001,now\nx,now\n", "event_timestamp",
                                 kNow, {{"driver_id", types::v1::ValueType::INT64}})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 3")));
}

TEST(EntityTableFromCsvTest, WhatCannotBeReadIsNamedByLineAndColumn) {
  EXPECT_THAT(EntityTableFromCsv("driver_id,ts\n1,now\n", "event_timestamp", kNow).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column event_timestamp")));
  EXPECT_THAT(EntityTableFromCsv("driver_id,ts\n1,now\n2,yesterday\n", "ts", kNow).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 3, column ts: expected a time")));
  EXPECT_THAT(EntityTableFromCsv("driver_id,ts\n1,\n", "ts", kNow).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2, column ts")));
  EXPECT_THAT(EntityTableFromCsv("driver_id,ts\n1,\"now\n", "ts", kNow).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CsvCellTest, NullsAreEmptyTimesAreRfc3339AndTextIsQuotedOnlyWhenNeeded) {
  Value v;
  EXPECT_EQ(CsvCell(v), "");
  v.set_null_val(types::v1::NULL_);
  EXPECT_EQ(CsvCell(v), "");
  v.set_unix_timestamp_val(1'795'255'200);
  EXPECT_EQ(CsvCell(v), "2026-11-21T10:00:00Z");
  v.set_string_val("a,\"b\"");
  EXPECT_EQ(CsvCell(v), "\"a,\"\"b\"\"\"");
  v.set_string_val("plain");
  EXPECT_EQ(CsvCell(v), "plain");
  v.set_float_val(0.1f);
  EXPECT_EQ(CsvCell(v), "0.1");
  v.mutable_int64_list_val()->add_val(1);
  v.mutable_int64_list_val()->add_val(2);
  EXPECT_EQ(CsvCell(v), "\"[1,2]\"");
}

}  // namespace
}  // namespace granary::cli
