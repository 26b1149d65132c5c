#include "libs/offlinestore/copy_text.h"

#include <limits>

#include "gtest/gtest.h"

#include "libs/offlinestore/copy_reader.h"

namespace granary::offlinestore {
namespace {

using types::v1::Value;

TEST(PgTextTest, ScalarsInFullPrecision) {
  Value v;
  EXPECT_FALSE(PgText(v).has_value());
  v.set_null_val(types::v1::NULL_);
  EXPECT_FALSE(PgText(v).has_value());
  v.set_int64_val(-9007199254740993);
  EXPECT_EQ(PgText(v), "-9007199254740993");
  v.set_double_val(0.1);
  EXPECT_EQ(PgText(v), "0.10000000000000001");
  v.set_float_val(0.1f);
  EXPECT_EQ(PgText(v), "0.100000001");
  v.set_double_val(std::numeric_limits<double>::infinity());
  EXPECT_EQ(PgText(v), "Infinity");
  v.set_bool_val(true);
  EXPECT_EQ(PgText(v), "t");
  v.set_bytes_val(std::string("\x01\xff", 2));
  EXPECT_EQ(PgText(v), "\\x01ff");
  v.set_unix_timestamp_val(1'700'000'000);
  EXPECT_EQ(PgText(v), "2023-11-14 22:13:20.000000+00");
  // Years of fewer than four digits keep them: PostgreSQL reads "1-01-01" as 2001.
  v.set_unix_timestamp_val(-62135596800);
  EXPECT_EQ(PgText(v), "0001-01-01 00:00:00.000000+00");
  EXPECT_EQ(PgTimestamp(absl::FromUnixMillis(-1500)), "1969-12-31 23:59:58.500000+00");
  v.set_string_val("tab\there");
  EXPECT_EQ(PgText(v), "tab\there");  // COPY escaping is the stream's job
}

TEST(PgTextTest, ListsAsArrayLiterals) {
  Value v;
  v.mutable_string_list_val()->add_val("a\"b");
  v.mutable_string_list_val()->add_val("c\\d");
  EXPECT_EQ(PgText(v), "{\"a\\\"b\",\"c\\\\d\"}");
  Value n;
  n.mutable_int64_list_val()->add_val(1);
  n.mutable_int64_list_val()->add_val(-2);
  EXPECT_EQ(PgText(n), "{1,-2}");
  Value empty;
  empty.mutable_double_list_val();
  EXPECT_EQ(PgText(empty), "{}");
}

TEST(AppendCopyFieldTest, EscapesWhatCopyWouldSplitOnAndReadsBackTheSame) {
  std::string line;
  AppendCopyField(std::string("a\tb\nc\rd\\e\\N"), &line);
  line += '\t';
  AppendCopyField(std::nullopt, &line);
  line += '\t';
  AppendCopyField(std::string(""), &line);
  EXPECT_EQ(line, "a\\tb\\nc\\rd\\\\e\\\\N\t\\N\t");
  std::vector<std::optional<std::string>> fields;
  ASSERT_TRUE(SplitCopyLine(line, &fields).ok());
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], "a\tb\nc\rd\\e\\N");
  EXPECT_EQ(fields[1], std::nullopt);
  EXPECT_EQ(fields[2], "");
}

}  // namespace
}  // namespace granary::offlinestore
