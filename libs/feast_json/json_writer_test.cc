#include "libs/feast_json/json_writer.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/feast_json/utf8.h"

namespace granary::feast_json {
namespace {

using nlohmann::json;

template <typename T, typename Append>
std::string Written(T value, Append append) {
  std::string out;
  append(value, &out);
  return out;
}

std::string StringText(absl::string_view s) { return Written(s, AppendJsonString); }
std::string DoubleText(double d) { return Written(d, AppendJsonDouble); }
std::string FloatText(float f) { return Written(f, AppendJsonFloat); }
std::string TimeText(absl::Time t) { return Written(t, AppendJsonTime); }

TEST(JsonWriterTest, StringsAreEscapedAsNlohmannEscapesThem) {
  // Every byte below 0x80, then UTF-8 of 2, 3 and 4 bytes: the same text nlohmann writes.
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  all += "Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x9A\x97";
  EXPECT_EQ(StringText(all), json(all).dump());
  EXPECT_EQ(StringText("say \"hi\"\\\n"), R"("say \"hi\"\\\n")");
  EXPECT_EQ(StringText(""), R"("")");
  EXPECT_EQ(json::parse(StringText(all)).get<std::string>(), all);
}

TEST(JsonWriterTest, IllFormedUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  // A stray continuation byte, an overlong form, a surrogate and a cut sequence.
  for (const std::string& bad : {std::string("a\x80z"), std::string("\xC0\xAF"),
                                 std::string("\xED\xA0\x80"), std::string("ok\xE2\x82")}) {
    const std::string text = StringText(bad);
    EXPECT_EQ(json::parse(text).get<std::string>(), ToValidUtf8(bad)) << text;
  }
  EXPECT_EQ(StringText("a\x80z"), "\"a" + fffd + "z\"");
  // Each ill-formed byte is replaced on its own.
  EXPECT_EQ(StringText("\xC0\xAF"), "\"" + fffd + fffd + "\"");
  EXPECT_EQ(StringText("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");
  EXPECT_EQ(StringText("ok\xE2\x82"), "\"ok" + fffd + fffd + "\"");
}

TEST(JsonWriterTest, DoublesReadBackExactly) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<uint64_t> bits;
  int checked = 0;
  while (checked < 20000) {
    const uint64_t b = bits(random);
    double d;
    std::memcpy(&d, &b, sizeof d);
    if (!std::isfinite(d)) continue;
    const json parsed = json::parse(DoubleText(d));
    ASSERT_TRUE(parsed.is_number_float()) << DoubleText(d);
    ASSERT_EQ(parsed.get<double>(), d) << DoubleText(d);
    ++checked;
  }
  for (double d : {0.0, -0.0, 0.5, 1e-300, 123456.789, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min()}) {
    EXPECT_EQ(json::parse(DoubleText(d)).get<double>(), d) << DoubleText(d);
  }
}

TEST(JsonWriterTest, DoublesAreLaidOutAsPythonWritesThem) {
  // Each expected text is Python's repr() of the same value.
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {-3.0, "-3.0"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {0.5, "0.5"},
      {0.1, "0.1"},
      {123.456, "123.456"},
      {100000.0, "100000.0"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e16, "1e+16"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-5, "1.5e-05"},
      {-2.5e-300, "-2.5e-300"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {5e-324, "5e-324"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(DoubleText(value), expected);
}

TEST(JsonWriterTest, NonFiniteNumbersAreStrings) {
  EXPECT_EQ(DoubleText(std::nan("")), R"("NaN")");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::infinity()), R"("Infinity")");
  EXPECT_EQ(DoubleText(-std::numeric_limits<double>::infinity()), R"("-Infinity")");
  EXPECT_EQ(FloatText(std::numeric_limits<float>::quiet_NaN()), R"("NaN")");
  EXPECT_EQ(FloatText(-std::numeric_limits<float>::infinity()), R"("-Infinity")");
}

TEST(JsonWriterTest, FloatsPrintTheirOwnShortestDecimal) {
  EXPECT_EQ(FloatText(0.1f), "0.1");
  EXPECT_EQ(FloatText(2.0f), "2.0");
  EXPECT_EQ(FloatText(3.4028235e38f), "3.4028235e+38");
  std::mt19937 random(11);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t b = bits(random);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (!std::isfinite(f)) continue;
    ASSERT_EQ(static_cast<float>(json::parse(FloatText(f)).get<double>()), f) << FloatText(f);
  }
}

TEST(JsonWriterTest, IntegersAreExact) {
  EXPECT_EQ(Written(std::numeric_limits<int64_t>::min(), AppendJsonInt), "-9223372036854775808");
  EXPECT_EQ(Written(std::numeric_limits<int64_t>::max(), AppendJsonInt), "9223372036854775807");
  EXPECT_EQ(Written(int64_t{0}, AppendJsonInt), "0");
}

// What the writer must match: absl's formatting, which the answers used before it.
std::string Reference(absl::Time t) {
  return absl::StrCat("\"", absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()),
                      "\"");
}

TEST(JsonWriterTest, TimesAreRfc3339InUtc) {
  const absl::Time april12 = absl::FromUnixSeconds(1618225182);
  EXPECT_EQ(TimeText(april12), R"("2021-04-12T10:59:42Z")");
  EXPECT_EQ(TimeText(april12 + absl::Milliseconds(500)), R"("2021-04-12T10:59:42.5Z")");
  EXPECT_EQ(TimeText(april12 + absl::Microseconds(1)), R"("2021-04-12T10:59:42.000001Z")");
  EXPECT_EQ(TimeText(april12 + absl::Nanoseconds(123456789)),
            R"("2021-04-12T10:59:42.123456789Z")");
  EXPECT_EQ(TimeText(absl::UnixEpoch()), R"("1970-01-01T00:00:00Z")");
  EXPECT_EQ(TimeText(absl::FromUnixSeconds(-62135596800)), R"("0001-01-01T00:00:00Z")");
  EXPECT_EQ(TimeText(absl::FromUnixSeconds(-1) + absl::Milliseconds(250)),
            R"("1969-12-31T23:59:59.25Z")");
  EXPECT_EQ(TimeText(absl::FromUnixSeconds(-62135596801) + absl::Milliseconds(5)),
            R"("0000-12-31T23:59:59.005Z")");
}

TEST(JsonWriterTest, TimesMatchAbslOverTheWholeRangeAndBeyond) {
  // Protobuf's Timestamp range is years 1 to 9999; outside it (and at the infinities) the
  // writer falls back to absl, so every time is checked against it.
  std::mt19937_64 random(3);
  std::uniform_int_distribution<int64_t> seconds(-62135596800 - 86400 * 400,
                                                 253402300799 + 86400 * 400);
  std::uniform_int_distribution<int64_t> nanos(0, 999999999);
  for (int i = 0; i < 20000; ++i) {
    int64_t n = nanos(random);
    if (i % 3 == 0) n = n / 1000000 * 1000000;  // milliseconds, as most event times are
    if (i % 5 == 0) n = 0;
    const absl::Time t = absl::FromUnixSeconds(seconds(random)) + absl::Nanoseconds(n);
    ASSERT_EQ(TimeText(t), Reference(t));
  }
  for (absl::Time t : {absl::InfiniteFuture(), absl::InfinitePast(),
                       absl::FromUnixSeconds(253402300799) + absl::Nanoseconds(999999999),
                       absl::FromUnixSeconds(253402300800)}) {
    EXPECT_EQ(TimeText(t), Reference(t));
  }
}

}  // namespace
}  // namespace granary::feast_json
