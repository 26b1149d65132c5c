#include "services/serving/on_demand.h"

#include "absl/strings/str_cat.h"

#include "libs/transforms/program_cache.h"
#include "libs/transforms/value_conversion.h"
#include "services/serving/value_wire.h"

namespace granary::serving {

using types::v1::Value;
using types::v1::ValueType;

absl::StatusOr<std::vector<types::v1::RepeatedValue>> RequestColumns(
    const ReadPlan& plan, const EntityColumns& request_context, size_t rows) {
  std::vector<types::v1::RepeatedValue> out;
  out.reserve(plan.request_columns.size());
  for (const RequestColumn& column : plan.request_columns) {
    auto it = request_context.find(column.name);
    if (it == request_context.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_context: missing column '", column.name, "' (",
                       ValueType::Enum_Name(column.type), "), read by on-demand feature view '",
                       column.view, "'"));
    }
    const types::v1::RepeatedValue& values = it->second;
    if (static_cast<size_t>(values.val_size()) != rows) {
      return absl::InvalidArgumentError(absl::StrCat("request_context['", column.name,
                                                     "']: ", values.val_size(), " values for ",
                                                     rows, " entity rows"));
    }
    // Taken as the declared type, as historical retrieval takes entity columns: the expression
    // sees the same value either way.
    types::v1::RepeatedValue& converted = out.emplace_back();
    converted.mutable_val()->Reserve(values.val_size());
    for (int r = 0; r < values.val_size(); ++r) {
      absl::StatusOr<Value> value = transforms::ConvertValue(values.val(r), column.type);
      if (!value.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("request_context['", column.name, "'][", r,
                                                       "]: ", value.status().message()));
      }
      *converted.add_val() = std::move(*value);
    }
  }
  return out;
}

absl::Status ComputeOnDemand(const ReadPlan& plan,
                             const std::vector<types::v1::RepeatedValue>& request, size_t rows,
                             ResponseBuilder& builder, absl::Time deadline) {
  const size_t first = plan.join_keys.size();
  std::vector<Value> parsed;
  std::vector<const Value*> inputs;
  std::vector<absl::StatusOr<Value>> outputs;
  Value null_value;
  null_value.set_null_val(types::v1::NULL_);
  for (const PlannedOnDemand& od : plan.on_demand) {
    absl::StatusOr<std::shared_ptr<transforms::ViewProgram>> program =
        transforms::ThreadProgram(plan.catalog_serial, *plan.repo, od.view);
    parsed.assign(od.inputs.size(), Value());
    inputs.assign(od.inputs.size(), nullptr);
    for (size_t row = 0; row < rows; ++row) {
      // The newest event time among the row's feature inputs stamps its outputs.
      ResponseBuilder::Bytes stamp;
      int64_t stamp_seconds = INT64_MIN;
      int32_t stamp_nanos = 0;
      for (size_t i = 0; i < od.inputs.size(); ++i) {
        const PlannedOnDemand::Input& in = od.inputs[i];
        inputs[i] = nullptr;
        if (in.request >= 0) {
          inputs[i] = &request[in.request].val(static_cast<int>(row));
          continue;
        }
        if (in.column < 0) continue;  // no output asked for reads it
        const size_t column = first + in.column;
        const v1::FieldStatus status = builder.status(row, column);
        // A stored null is nil too, but its row was read: it stamps the outputs like a value.
        if (status != v1::PRESENT && status != v1::NULL_VALUE) continue;
        if (status == v1::PRESENT &&
            parsed[i].ParseFromString(std::string(builder.value(row, column)))) {
          inputs[i] = &parsed[i];
        }
        int64_t seconds;
        int32_t nanos;
        const ResponseBuilder::Bytes ts = builder.timestamp(row, column);
        if (ParseTimestamp(builder.View(ts), &seconds, &nanos) &&
            (seconds > stamp_seconds || (seconds == stamp_seconds && nanos > stamp_nanos))) {
          stamp = ts;
          stamp_seconds = seconds;
          stamp_nanos = nanos;
        }
      }
      if (program.ok()) {
        (*program)->Evaluate(inputs, &outputs, &od.wanted, deadline);
      } else {
        outputs.assign(od.outputs.size(), program.status());
      }
      // Evaluations stop at the deadline too: past it, nothing computed is answered.
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("the deadline passed while computing on-demand feature view '", od.view,
                         "' (row ", row + 1, " of ", rows, ")"));
      }
      for (size_t o = 0; o < od.outputs.size() && o < outputs.size(); ++o) {
        for (int column : od.outputs[o]) {
          if (!outputs[o].ok()) {
            builder.Set(row, first + column, v1::INVALID, {}, stamp);
            continue;
          }
          // nil answers as a stored null does: NULL_VALUE with a null Value.
          const bool null = outputs[o]->val_case() == Value::VAL_NOT_SET;
          builder.Set(row, first + column, null ? v1::NULL_VALUE : v1::PRESENT,
                      builder.StoreValue(null ? null_value : *outputs[o]), stamp);
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace granary::serving
