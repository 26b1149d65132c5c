// Feature values of every type out of a real PostgreSQL and into Values, under session
// settings chosen to get in the way (a time zone far from UTC, bytea in escape format), with
// awkward text in lists, NaN and infinities, NULLs; and text that is not of its type refused.
#include "libs/offlinestore/value_text.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include <pqxx/pqxx>

#include "libs/offlinestore/copy_reader.h"
#include "libs/offlinestore/sql_names.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::offlinestore {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;

Value V(const std::string& text) {
  Value v;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &v)) << text;
  return v;
}

TEST(ValueTextTest, EveryTypeRoundTripsThroughPostgres) {
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("offline"));
  pqxx::connection conn(pg->ConnInfo("offline"));
  pqxx::work tx(conn);
  // Settings in the way, then pinned (as every offline read does).
  tx.exec(
      "SET TimeZone = 'Asia/Kolkata'; SET bytea_output = 'escape'; "
      "SET extra_float_digits = 0; SET DateStyle = 'German'");
  ASSERT_OK(PinSession(tx));
  struct Case {
    std::string sql_type, literal;
    ValueType::Enum type;
    Value want;
  };
  const std::vector<Case> cases = {
      {"bytea", "'\\x00ff10'::bytea", ValueType::BYTES, V(R"(bytes_val: "\000\377\020")")},
      {"text", "E'tab\\there, \"quoted\" {brace} \\\\'", ValueType::STRING,
       V(R"(string_val: "tab\there, \"quoted\" {brace} \\")")},
      {"integer", "-2147483648", ValueType::INT32, V("int32_val: -2147483648")},
      {"bigint", "9223372036854775807", ValueType::INT64, V("int64_val: 9223372036854775807")},
      {"double precision", "0.1", ValueType::DOUBLE, V("double_val: 0.1")},
      {"double precision", "0.1::float8 + 0.2", ValueType::DOUBLE,
       V("double_val: 0.30000000000000004")},  // all 17 digits
      {"timestamp", "'2020-01-01 00:00:00'", ValueType::UNIX_TIMESTAMP,
       V("unix_timestamp_val: 1577836800")},  // without a zone: UTC
      {"real", "1.5", ValueType::FLOAT, V("float_val: 1.5")},
      {"boolean", "true", ValueType::BOOL, V("bool_val: true")},
      {"timestamptz", "'1969-12-31 23:59:59.5+00'", ValueType::UNIX_TIMESTAMP,
       V("unix_timestamp_val: -1")},  // floored: what Feast keeps is seconds
      {"bytea[]", "ARRAY['\\x01'::bytea, '\\x'::bytea]", ValueType::BYTES_LIST,
       V(R"(bytes_list_val { val: "\001" val: "" })")},
      {"text[]", "ARRAY['a,b', 'NULL', '', 'quote\"back\\slash', ' lead']", ValueType::STRING_LIST,
       V(R"(string_list_val { val: "a,b" val: "NULL" val: "" val: "quote\"back\\slash" val: " lead" })")},
      {"integer[]", "ARRAY[1, -2]", ValueType::INT32_LIST, V("int32_list_val { val: 1 val: -2 }")},
      {"bigint[]", "ARRAY[]::bigint[]", ValueType::INT64_LIST, V("int64_list_val {}")},
      {"double precision[]", "ARRAY[0.25, 'Infinity', '-Infinity']::float8[]",
       ValueType::DOUBLE_LIST, V("double_list_val { val: 0.25 val: inf val: -inf }")},
      {"real[]", "ARRAY[2.5]::real[]", ValueType::FLOAT_LIST, V("float_list_val { val: 2.5 }")},
      {"boolean[]", "ARRAY[true, false]", ValueType::BOOL_LIST,
       V("bool_list_val { val: true val: false }")},
      {"timestamptz[]", "ARRAY['2020-01-01 00:00:00+00', '1970-01-01 00:00:10+00']::timestamptz[]",
       ValueType::UNIX_TIMESTAMP_LIST, V("unix_timestamp_list_val { val: 1577836800 val: 10 }")},
      {"bigint", "NULL", ValueType::INT64, V("null_val: NULL")},
      {"text[]", "NULL", ValueType::STRING_LIST, V("null_val: NULL")},
      {"timestamptz[]", "NULL", ValueType::UNIX_TIMESTAMP_LIST, V("null_val: NULL")},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(absl::StrCat(c.sql_type, " ", c.literal));
    tx.exec(absl::StrCat("CREATE TEMP TABLE t", i, " (x ", c.sql_type, "); INSERT INTO t", i,
                         " VALUES (", c.literal, ")"));
    ASSERT_OK_AND_ASSIGN(std::string expr, FeatureExpression("s.\"x\"", c.type));
    CopyReader reader(tx, absl::StrCat("SELECT ", expr, " FROM t", i, " s"));
    std::vector<std::optional<std::string>> fields;
    ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&fields));
    ASSERT_TRUE(more);
    ASSERT_EQ(fields.size(), 1u);
    ASSERT_OK_AND_ASSIGN(Value got, ParseFeatureText(fields[0], c.type));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, c.want))
        << got.ShortDebugString() << " != " << c.want.ShortDebugString();
    ASSERT_OK_AND_ASSIGN(bool after, reader.Next(&fields));
    EXPECT_FALSE(after);
  }
  // NaN is not equal to itself: apart.
  tx.exec("CREATE TEMP TABLE nan (x double precision); INSERT INTO nan VALUES ('NaN')");
  CopyReader reader(tx, "SELECT x FROM nan");
  std::vector<std::optional<std::string>> fields;
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&fields));
  ASSERT_TRUE(more);
  ASSERT_OK_AND_ASSIGN(Value nan, ParseFeatureText(fields[0], ValueType::DOUBLE));
  EXPECT_TRUE(std::isnan(nan.double_val()));
}

TEST(ValueTextTest, TextThatIsNotOfItsTypeIsRefusedNamingTheType) {
  EXPECT_THAT(ParseFeatureText("12x", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a INT64")));
  EXPECT_THAT(ParseFeatureText("3000000000", ValueType::INT32),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFeatureText("yes", ValueType::BOOL),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFeatureText("\\x0", ValueType::BYTES),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFeatureText("{1,NULL}", ValueType::INT64_LIST),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NULL element")));
  EXPECT_THAT(ParseFeatureText("{{1},{2}}", ValueType::INT64_LIST),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFeatureText("{\"open", ValueType::STRING_LIST),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FeatureExpression("s.x", ValueType::INVALID),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace granary::offlinestore
