// Text that nlohmann::json can always print. Its dump() throws on invalid UTF-8, and strings
// read from the online store (which Feast or any other writer may have filled) are not
// guaranteed to be valid; an exception there would escape the gateway's handler.
//
//   json out = ToValidUtf8(value.string_val());
#ifndef GRANARY_LIBS_FEAST_JSON_UTF8_H_
#define GRANARY_LIBS_FEAST_JSON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace granary::feast_json {

inline constexpr char kUtf8Replacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Whether text is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// The length of the well-formed UTF-8 sequence that starts at text[i] (1 to 4), or 0 when the
// byte there starts none. i < text.size().
size_t Utf8SequenceLength(absl::string_view text, size_t i);

// text itself when valid; otherwise a copy with each ill-formed byte replaced by U+FFFD.
std::string ToValidUtf8(absl::string_view text);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_UTF8_H_
