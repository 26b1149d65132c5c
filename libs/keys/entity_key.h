// Feast's online-store keys (serialization version 3), so that a Redis Feast wrote can be read
// by Granary and the other way round. A key is the serialized entity key followed directly by
// the project name:
//
//   u32 LE count of join keys
//   per join key, in ascending order:   u32 LE 2 (STRING), u32 LE length, UTF-8 bytes
//   per value, in the same order:       u32 LE type, u32 LE length, bytes
//       STRING: UTF-8; BYTES: raw; INT32: 4 bytes LE; INT64, UNIX_TIMESTAMP: 8 bytes LE
//
// The value's declared type is part of the key: an int32 1001 and an int64 1001 are different
// entities. A view without entities uses the join key "__dummy_id" with the empty string.
//
//   std::string key = RedisKey({{"driver_id", Int64(1001)}}, "feature_repo");
#ifndef GRANARY_LIBS_KEYS_ENTITY_KEY_H_
#define GRANARY_LIBS_KEYS_ENTITY_KEY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "granary/types/v1/value.pb.h"

namespace granary::keys {

// The join key and value of views without entities.
inline constexpr char kDummyJoinKey[] = "__dummy_id";

// Whether values of this type can be part of a key.
bool IsKeyType(types::v1::ValueType::Enum type);

// The type a value is (by which member of the oneof is set); INVALID when unset.
types::v1::ValueType::Enum TypeOf(const types::v1::Value& value);

// A join-key value as the type its entity declares, when it is the same number: a key must be
// the one the writers wrote, and they write the declared type. Accepts int32 for INT64, an
// int64 that fits for INT32, int64 seconds for UNIX_TIMESTAMP. Returns `in` itself when it
// already has the type, `scratch` (filled) when converted, null when it cannot be.
const types::v1::Value* CoerceKeyValue(const types::v1::Value& in, types::v1::ValueType::Enum type,
                                       types::v1::Value* scratch);

// Appends one join key's value, as it appears in a key. INVALID_ARGUMENT for a value that is
// not of a key type.
absl::Status AppendKeyValue(const types::v1::Value& value, std::string* out);

// The start of every key with these join keys (which must be sorted): their count and names.
// A key is this, then AppendKeyValue of each value in the same order, then the project: for
// hot paths that build many keys of the same shape.
std::string JoinKeysPrefix(absl::Span<const std::string> sorted_join_keys);
// The serialized entity key of (join key, value) pairs, in any order (they are sorted here).
absl::StatusOr<std::string> SerializeEntityKey(
    std::vector<std::pair<std::string, types::v1::Value>> join_keys);

// The serialized entity key followed by the project: the Redis key of the entity's hash.
absl::StatusOr<std::string> RedisKey(
    std::vector<std::pair<std::string, types::v1::Value>> join_keys, absl::string_view project);

// The project a Redis key belongs to: what follows its serialized entity key. INVALID_ARGUMENT
// when the key does not start with a well-formed entity key (not one of Feast's keys). Keys
// end with the project's name, so a pattern match on the end alone would take "workshop" for
// "shop"; this reads the entity key's own lengths to find where it ends.
absl::StatusOr<absl::string_view> ProjectOfKey(absl::string_view key);

}  // namespace granary::keys

#endif  // GRANARY_LIBS_KEYS_ENTITY_KEY_H_
