#include "libs/keys/hash_field.h"

#include "absl/strings/str_cat.h"
#include "murmurhash.h"

namespace granary::keys {

uint32_t Murmur3(absl::string_view data) {
  uint32_t out[1];
  lmmh_x86_32(data.data(), static_cast<unsigned int>(data.size()), 0, out);
  return out[0];
}

std::string FeatureField(absl::string_view view, absl::string_view feature) {
  uint32_t h = Murmur3(absl::StrCat(view, ":", feature));
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(h >> (8 * i));
  return out;
}

std::string TimestampField(absl::string_view view) { return absl::StrCat("_ts:", view); }

std::string CreatedField(absl::string_view view) { return absl::StrCat("_created:", view); }

absl::string_view FailedValue() {
  // Tag (99 << 3 | varint) = 792 = 0x98 0x06, then the varint 1.
  static constexpr char kBytes[] = "\x98\x06\x01";
  return absl::string_view(kBytes, 3);
}

}  // namespace granary::keys
