#include "libs/feast_json/json_kind.h"

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace granary::feast_json {
namespace {

// Enough to recognise the value, short enough that a large body does not flood the message.
constexpr size_t kMaxShown = 40;

}  // namespace

const char* KindName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a bool";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::binary:
      return "binary data";
    case nlohmann::json::value_t::discarded:
      break;
  }
  return "nothing";
}

std::string Describe(const nlohmann::json& value) {
  if (value.is_null() || value.is_discarded()) return KindName(value);
  if (value.is_array()) {
    return absl::StrCat("a list of ", value.size(), value.size() == 1 ? " value" : " values");
  }
  if (value.is_object()) {
    return absl::StrCat("an object with ", value.size(), value.size() == 1 ? " key" : " keys");
  }
  // replace: never throw on invalid UTF-8 (in a value built in code rather than parsed).
  std::string shown = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (shown.size() > kMaxShown) {
    size_t cut = kMaxShown;
    // Cut on a character boundary so that the message stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
    shown.resize(cut);
    shown += "...";
  }
  return absl::StrCat(KindName(value), " (", shown, ")");
}

}  // namespace granary::feast_json
