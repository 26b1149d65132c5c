#include "tools/cli/push_file.h"

#include <fstream>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using types::v1::RepeatedValue;
using types::v1::ValueType;

const PushFileOptions kDriverTypes{.types = {{"driver_id", ValueType::INT64},
                                             {"event_timestamp", ValueType::UNIX_TIMESTAMP},
                                             {"conv_rate", ValueType::FLOAT},
                                             {"note", ValueType::STRING}}};

const RepeatedValue& Column(const PushTable& table, const std::string& name) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (table.columns[c] == name) return table.values[c];
  }
  static const RepeatedValue kNone;
  ADD_FAILURE() << "no column " << name;
  return kNone;
}

std::vector<std::string> Records(absl::string_view text, std::vector<int>* lines = nullptr) {
  CsvReader csv(text);
  std::vector<std::string> out;
  for (std::vector<std::string> record; csv.Next(record);) {
    out.push_back(absl::StrJoin(record, "|"));
    if (lines != nullptr) lines->push_back(csv.line());
  }
  EXPECT_OK(csv.status());
  return out;
}

TEST(CsvReaderTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  std::vector<int> lines;
  EXPECT_THAT(
      Records("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\r\n\n\"two\nlines\",,\"\"\nlast,1,2", &lines),
      ElementsAre("a|b|c", "x, y|say \"hi\"|", "two\nlines||", "last|1|2"));
  EXPECT_THAT(lines, ElementsAre(1, 2, 4, 6));  // the blank line 3 is skipped
}

TEST(CsvReaderTest, MalformedQuotingNamesLineAndField) {
  CsvReader open("a,b\n1,\"never closed\n");
  std::vector<std::string> record;
  ASSERT_TRUE(open.Next(record));
  EXPECT_FALSE(open.Next(record));
  EXPECT_THAT(open.status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2, field 2: a quoted field is never closed")));
  CsvReader stray("a\nab\"c\n");
  ASSERT_TRUE(stray.Next(record));
  EXPECT_FALSE(stray.Next(record));
  EXPECT_THAT(stray.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("line 2, field 1: a quote inside an unquoted")));
  CsvReader after("\"a\"b\n");
  EXPECT_FALSE(after.Next(record));
  EXPECT_THAT(after.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("text after the closing quote")));
}

TEST(ParseCsvTest, TypesEachColumnAndEmptyCellsAreNull) {
  CellContext cx{.now = absl::FromUnixSeconds(1'800'000'000)};
  ASSERT_OK_AND_ASSIGN(PushTable table, ParseCsv("\xEF\xBB\xBF"
                                                 "driver_id,event_timestamp,conv_rate,note,extra\n"
                                                 "1001,2026-11-21T10:00:00Z,0.5,\"a, b\",7\n"
                                                 "1002,now-5m,,,\n",
                                                 kDriverTypes, cx));
  EXPECT_EQ(table.rows, 2);
  EXPECT_THAT(table.columns,
              ElementsAre("driver_id", "event_timestamp", "conv_rate", "note", "extra"));
  EXPECT_THAT(table.row_lines, ElementsAre(2, 3));
  EXPECT_EQ(Column(table, "driver_id").val(1).int64_val(), 1002);
  EXPECT_EQ(Column(table, "event_timestamp").val(0).unix_timestamp_val(), 1'795'255'200);
  EXPECT_EQ(Column(table, "event_timestamp").val(1).unix_timestamp_val(), 1'800'000'000 - 300);
  EXPECT_TRUE(cx.used_now);
  EXPECT_FLOAT_EQ(Column(table, "conv_rate").val(0).float_val(), 0.5f);
  EXPECT_TRUE(Column(table, "conv_rate").val(1).has_null_val());
  EXPECT_EQ(Column(table, "note").val(0).string_val(), "a, b");
  // Not in the schema: sent as text, for the ingestion service to name.
  EXPECT_EQ(Column(table, "extra").val(0).string_val(), "7");
  EXPECT_THAT(table.types, ElementsAre(ValueType::INT64, ValueType::UNIX_TIMESTAMP,
                                       ValueType::FLOAT, ValueType::STRING, ValueType::STRING));
}

TEST(ParseCsvTest, WithoutASchemaTypesAreGuessed) {
  CellContext cx;
  ASSERT_OK_AND_ASSIGN(
      PushTable table,
      ParseCsv("id,ts,rate,name\n1,2026-11-21 10:00:00,1,x\n2,now,0.5,y\n", {.guess = true}, cx));
  EXPECT_THAT(table.types, ElementsAre(ValueType::INT64, ValueType::UNIX_TIMESTAMP,
                                       ValueType::DOUBLE, ValueType::STRING));
  EXPECT_DOUBLE_EQ(Column(table, "rate").val(0).double_val(), 1.0);
}

TEST(ParseCsvTest, BadCellsAndRowsNameTheLineAndColumn) {
  CellContext cx;
  EXPECT_THAT(ParseCsv("driver_id,conv_rate\n1001,0.5\n\"1002\",\"high\"\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 3, column conv_rate: expected a FLOAT number, found "
                                 "\"high\"")));
  EXPECT_THAT(ParseCsv("driver_id,note\n\"1\",\"multi\nline\"\nx,y\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 4, column driver_id: expected an INT64 integer")));
  EXPECT_THAT(ParseCsv("driver_id,conv_rate\n1001\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: 1 fields, but the header has 2")));
  EXPECT_THAT(ParseCsv("a,,b\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 2: the header")));
  EXPECT_THAT(ParseCsv("a,b,a\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"a\" appears twice")));
  EXPECT_THAT(ParseCsv("\n\n", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a header line")));
}

TEST(ParseJsonTest, FeastColumnShape) {
  CellContext cx;
  ASSERT_OK_AND_ASSIGN(PushTable table,
                       ParseJson(R"({"driver_id": [1001, "1002"], "conv_rate": [0.5, null],
                                     "event_timestamp": [1795255200, "2026-11-21T10:00:00Z"]})",
                                 kDriverTypes, cx));
  EXPECT_EQ(table.rows, 2);
  EXPECT_TRUE(table.row_lines.empty());
  EXPECT_EQ(Column(table, "driver_id").val(1).int64_val(), 1002);
  EXPECT_TRUE(Column(table, "conv_rate").val(1).has_null_val());
  EXPECT_EQ(Column(table, "event_timestamp").val(1).unix_timestamp_val(), 1'795'255'200);
}

TEST(ParseJsonTest, ListOfRowsMissingKeysAreNull) {
  CellContext cx;
  ASSERT_OK_AND_ASSIGN(PushTable table, ParseJson(R"([{"driver_id": 1001, "conv_rate": 0.5},
                                     {"driver_id": 1002},
                                     {"driver_id": 1003, "note": "late"}])",
                                                  kDriverTypes, cx));
  EXPECT_EQ(table.rows, 3);
  EXPECT_THAT(table.columns, UnorderedElementsAre("driver_id", "conv_rate", "note"));
  EXPECT_EQ(Column(table, "driver_id").val(2).int64_val(), 1003);
  EXPECT_FLOAT_EQ(Column(table, "conv_rate").val(0).float_val(), 0.5f);
  EXPECT_TRUE(Column(table, "conv_rate").val(1).has_null_val());
  EXPECT_TRUE(Column(table, "conv_rate").val(2).has_null_val());
  EXPECT_TRUE(Column(table, "note").val(0).has_null_val());
  EXPECT_EQ(Column(table, "note").val(2).string_val(), "late");
}

TEST(ParseJsonTest, ProblemsNameThePath) {
  CellContext cx;
  EXPECT_THAT(ParseJson(R"({"driver_id": [1, 2.5]})", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("driver_id[1]: expected an INT64 integer, found a number (2.5)")));
  EXPECT_THAT(ParseJson(R"([{"driver_id": 1}, {"conv_rate": "fast"}])", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("[1].conv_rate: expected a FLOAT number")));
  EXPECT_THAT(ParseJson(R"({"driver_id": [1, 2], "conv_rate": [0.5]})", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("driver_id: 2 values, but conv_rate has 1")));
  EXPECT_THAT(ParseJson(R"({"driver_id": 1})", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("driver_id: expected a list of values, found a number (1)")));
  EXPECT_THAT(ParseJson(R"([{"driver_id": 1}, 7])", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[1]: expected an object")));
  EXPECT_THAT(ParseJson("\"rows\"", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a list of row objects")));
  EXPECT_THAT(ParseJson("{\"driver_id\": [1,", kDriverTypes, cx),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not JSON: parse error")));
}

TEST(ReadPushFileTest, ByExtensionAndNamingTheFile) {
  ASSERT_OK_AND_ASSIGN(granary::testing::TempDir dir, granary::testing::TempDir::Create("push"));
  std::string csv = dir.path() + "/rows.CSV", json = dir.path() + "/rows.json";
  std::ofstream(csv) << "driver_id\n1001\n";
  std::ofstream(json) << R"([{"driver_id": "x"}])";
  CellContext cx;
  std::string content;
  ASSERT_OK_AND_ASSIGN(PushTable table, ReadPushFile(csv, kDriverTypes, cx, &content));
  EXPECT_EQ(content, "driver_id\n1001\n");
  EXPECT_EQ(Column(table, "driver_id").val(0).int64_val(), 1001);
  EXPECT_THAT(ReadPushFile(json, kDriverTypes, cx, &content),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(json + ": [0].driver_id: expected an INT64 integer")));
  EXPECT_THAT(ReadPushFile(dir.path() + "/none.csv", kDriverTypes, cx, &content),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.csv")));
  EXPECT_THAT(ReadPushFile(dir.path() + "/rows.parquet", kDriverTypes, cx, &content),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a .csv or .json")));
}

}  // namespace
}  // namespace granary::cli
