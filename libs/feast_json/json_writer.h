// JSON text appended token by token, for answers too large or too frequent to build as a
// nlohmann::json tree first: a 1 x 50 online answer is ~200 tree nodes, and building, printing
// and freeing them was a quarter of the gateway's CPU on its HTTP route. The caller writes the
// brackets, commas and keys itself; these write the values, which are where JSON is subtle.
//
//   std::string out = "{\"name\":";
//   AppendJsonString(name, &out);
//   out += ",\"rate\":";
//   AppendJsonDouble(0.5, &out);
//   out += '}';
#ifndef GRANARY_LIBS_FEAST_JSON_JSON_WRITER_H_
#define GRANARY_LIBS_FEAST_JSON_JSON_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace granary::feast_json {

// The text quoted, with '"', '\\' and control characters escaped as nlohmann::json escapes
// them, other characters as they are (UTF-8), and each byte that is not well-formed UTF-8
// replaced by U+FFFD (as ToValidUtf8 does), so the output is always valid JSON.
void AppendJsonString(absl::string_view text, std::string* out);

void AppendJsonInt(int64_t value, std::string* out);

// `items` as a JSON array, each item written by append(item, out).
template <typename Items, typename Append>
void AppendJsonArray(const Items& items, Append append, std::string* out) {
  *out += '[';
  bool first = true;
  for (const auto& item : items) {
    if (!first) *out += ',';
    first = false;
    append(item, out);
  }
  *out += ']';
}

// The shortest decimal that reads back as the same double, written as Python writes a float
// (Feast's server is Python): fixed notation for decimal exponents -4 to 15, always with a
// fraction ("1.0", "100000.0", "0.0001"), so a reader typing numbers by their text still sees
// a float; scientific beyond ("1e+16", "1.5e-05"). NaN and the infinities are the strings
// "NaN", "Infinity" and "-Infinity", as in protobuf's JSON mapping: JSON has no literal for
// them.
void AppendJsonDouble(double value, std::string* out);

// The float's own shortest decimal: 0.1f is 0.1, not the double nearest it
// (0.10000000149011612). Otherwise as AppendJsonDouble.
void AppendJsonFloat(float value, std::string* out);

// A quoted RFC 3339 time in UTC, as protobuf's JSON mapping writes a Timestamp:
// "2021-04-12T10:59:42Z", with the fraction of a second only when there is one and without
// its trailing zeros ("...42.5Z", "...42.000001Z"). Years below 1000 keep four digits.
void AppendJsonTime(absl::Time time, std::string* out);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_JSON_WRITER_H_
