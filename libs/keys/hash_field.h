// Feast's Redis hash fields: a feature's value lives under the MurmurHash3 (x86, 32 bits,
// seed 0) of "<view>:<feature>", stored as 4 bytes little-endian; a view's event timestamp
// under "_ts:<view>"; and Granary's own "_created:<view>" (a granary.types.v1.OnlineRowMeta:
// the row's created time and the view's incarnation), which Feast's readers ignore.
//
//   std::string field = FeatureField("driver_hourly_stats", "conv_rate");  // "\x61\x60\xe3\xda"
#ifndef GRANARY_LIBS_KEYS_HASH_FIELD_H_
#define GRANARY_LIBS_KEYS_HASH_FIELD_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace granary::keys {

uint32_t Murmur3(absl::string_view data);

std::string FeatureField(absl::string_view view, absl::string_view feature);

std::string TimestampField(absl::string_view view);

std::string CreatedField(absl::string_view view);

// Granary's stored value for an output of a write-time on-demand view whose expression failed
// for that row: a Value holding only field 99, which no Value has. Feast's readers parse it as a
// Value with nothing set (no value); Granary's serving answers INVALID for it. A failure is
// stored, not skipped, so that an older row's output is not left standing beside newer inputs.
absl::string_view FailedValue();

}  // namespace granary::keys

#endif  // GRANARY_LIBS_KEYS_HASH_FIELD_H_
