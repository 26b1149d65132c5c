// Feature values in one call, for tests.
//
//   EXPECT_EQ(RedisKey({{"driver_id", Int64(7)}}, "shop"), ...);
#ifndef GRANARY_LIBS_TESTING_VALUES_H_
#define GRANARY_LIBS_TESTING_VALUES_H_

#include <cstdint>
#include <string>

#include "granary/types/v1/value.pb.h"

namespace granary::testing {

inline types::v1::Value Int64(int64_t v) {
  types::v1::Value x;
  x.set_int64_val(v);
  return x;
}

inline types::v1::Value Int32(int32_t v) {
  types::v1::Value x;
  x.set_int32_val(v);
  return x;
}

inline types::v1::Value Str(const std::string& v) {
  types::v1::Value x;
  x.set_string_val(v);
  return x;
}

inline types::v1::Value Double(double v) {
  types::v1::Value x;
  x.set_double_val(v);
  return x;
}

// An explicit null (served as NULL_VALUE).
inline types::v1::Value Null() {
  types::v1::Value x;
  x.set_null_val(types::v1::NULL_);
  return x;
}

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_VALUES_H_
