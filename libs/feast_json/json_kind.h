// What a JSON value is, for error messages that say what was found instead of what was expected:
// "entities.driver_id: expected a list of values, found an integer (1001)".
//
//   return absl::InvalidArgumentError(absl::StrCat("expected a string, found ", Describe(j)));
#ifndef GRANARY_LIBS_FEAST_JSON_JSON_KIND_H_
#define GRANARY_LIBS_FEAST_JSON_JSON_KIND_H_

#include <string>

#include "nlohmann/json.hpp"

namespace granary::feast_json {

// The kind with its article ("an object", "a number", "null").
const char* KindName(const nlohmann::json& value);

// The kind and, for a scalar, the value as compact JSON cut at a few dozen characters
// ("a string (\"x\")"); for a list or object, its size ("a list of 2 values"). Containers are
// never printed: printing recurses, and a deeply nested body must not exhaust the stack.
std::string Describe(const nlohmann::json& value);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_JSON_KIND_H_
