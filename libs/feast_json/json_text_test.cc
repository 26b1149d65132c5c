#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/feast_json/json_kind.h"
#include "libs/feast_json/utf8.h"

namespace granary::feast_json {
namespace {

using nlohmann::json;

TEST(Utf8Test, WellFormedTextIsKept) {
  for (const std::string& text :
       {std::string(""), std::string("plain"), std::string("Z\xC3\xBCrich"),
        std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x9A\x97"), std::string("a\0b", 3)}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    EXPECT_EQ(ToValidUtf8(text), text);
  }
}

TEST(Utf8Test, IllFormedBytesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  // A stray continuation byte, an overlong form, a surrogate, past U+10FFFF, a cut sequence.
  EXPECT_EQ(ToValidUtf8("a\x80z"), "a" + fffd + "z");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), fffd + fffd);
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), fffd + fffd + fffd);
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  EXPECT_EQ(ToValidUtf8("ok\xE2\x82"), "ok" + fffd + fffd);
  for (const char* bad : {"a\x80z", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ok\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(bad)));
  }
}

TEST(JsonKindTest, DescribesEachKind) {
  EXPECT_EQ(Describe(json(nullptr)), "null");
  EXPECT_EQ(Describe(json(true)), "a bool (true)");
  EXPECT_EQ(Describe(json(-3)), "an integer (-3)");
  EXPECT_EQ(Describe(json(3u)), "an integer (3)");
  EXPECT_EQ(Describe(json(1.5)), "a number (1.5)");
  EXPECT_EQ(Describe(json("x")), "a string (\"x\")");
  EXPECT_EQ(Describe(json::array()), "a list of 0 values");
  EXPECT_EQ(Describe(json::array({1})), "a list of 1 value");
  EXPECT_EQ(Describe(json::object()), "an object with 0 keys");
  EXPECT_EQ(Describe(json::binary({1, 2})), "binary data ({\"bytes\":[1,2],\"subtype\":null})");
}

TEST(JsonKindTest, LongValuesAreCutOnACharacterBoundary) {
  // 40 bytes shown: the quote, then 19 two-byte characters and one byte of the 20th, which
  // must not be split.
  std::string text;
  for (int i = 0; i < 30; ++i) text += "\xC3\xBC";
  const std::string described = Describe(json(text));
  EXPECT_THAT(described, ::testing::EndsWith("...)"));
  EXPECT_TRUE(IsValidUtf8(described));
  EXPECT_LT(described.size(), 60u);
}

TEST(JsonKindTest, IllFormedUtf8InABuiltValueDoesNotThrow) {
  EXPECT_EQ(Describe(json(std::string("\xFF"))), "a string (\"\xEF\xBF\xBD\")");
}

}  // namespace
}  // namespace granary::feast_json
