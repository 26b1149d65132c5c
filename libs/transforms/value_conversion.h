// Values given for a declared type (request columns, entity columns read as request columns):
// taken as that type, so that an expression sees the same Lua value whichever path computes it
// (an integer 3 sent for a DOUBLE column is the float 3.0 in Lua, as the stored DOUBLE would be).
//
//   if (!Convertible(column_type, declared)) return error;
//   ASSIGN_OR_RETURN(types::v1::Value v, ConvertValue(value, declared));
#ifndef GRANARY_LIBS_TRANSFORMS_VALUE_CONVERSION_H_
#define GRANARY_LIBS_TRANSFORMS_VALUE_CONVERSION_H_

#include "absl/status/statusor.h"
#include "granary/types/v1/value.pb.h"

namespace granary::transforms {

// Whether values of type `from` can be taken for `to`: the same type; INT32 or INT64 for any
// numeric type (INT64 for INT32 as long as it fits); FLOAT or DOUBLE for each other.
bool Convertible(types::v1::ValueType::Enum from, types::v1::ValueType::Enum to);

// Whether a double converts to a float: NaN and infinities do; a finite value past float's
// largest would be undefined behaviour.
bool FitsFloat(double v);

// `value` as a `to`. Null and unset values stay as they are. INVALID_ARGUMENT saying what the
// value is and what was wanted ("an int64_val value, want BOOL"), or that it is out of INT32's
// range.
absl::StatusOr<types::v1::Value> ConvertValue(const types::v1::Value& value,
                                              types::v1::ValueType::Enum to);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_VALUE_CONVERSION_H_
