// Granary's release version, reported by every binary (--version, GetFeastServingInfo).
#ifndef GRANARY_LIBS_BASE_VERSION_H_
#define GRANARY_LIBS_BASE_VERSION_H_

namespace granary::base {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_VERSION_H_
