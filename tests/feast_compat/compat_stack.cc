#include "tests/feast_compat/compat_stack.h"

#include "feast/types/Value.pb.h"
#include "granary/types/v1/value.pb.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/redis/client.h"

namespace granary::feast_compat {
namespace {

// Microsecond precision, so that what is written and what comes back compare exactly.
absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

// A value serialized as a Feast writer stores it: feast.types.Value.
std::string FeastFloat(float v) {
  ::feast::types::Value value;
  value.set_float_val(v);
  return value.SerializeAsString();
}

std::string FeastInt64(int64_t v) {
  ::feast::types::Value value;
  value.set_int64_val(v);
  return value.SerializeAsString();
}

std::string FeastNull() {
  ::feast::types::Value value;
  value.set_null_val(::feast::types::NULL_);
  return value.SerializeAsString();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CompatStack>> CompatStack::Start() {
  auto stack = std::unique_ptr<CompatStack>(new CompatStack());
  ASSIGN_OR_RETURN(stack->stack_, testing::TestStack::Start({}));
  RETURN_IF_ERROR(stack->WriteRows());
  ASSIGN_OR_RETURN(stack->serving_, stack->stack_->Spawn("serving"));
  // SERVING is Redis reachable; the catalog is loaded once the registry client says so.
  RETURN_IF_ERROR(stack->serving_->process().WaitForOutput("catalog updated", absl::Seconds(30)));
  return stack;
}

absl::Status CompatStack::WriteRows() {
  const absl::Time now = Micros(absl::Now());
  rows_ = {
      {1001, now - absl::Minutes(10), 0.5f, 0.75f, false, 42},
      {1002, now - absl::Minutes(20), 0.25f, 0.f, true, 7},
      {1003, now - absl::Hours(48), 0.125f, 0.5f, false, 3},  // past the one-day TTL
  };
  redis::RedisOptions options;
  options.host = stack_->redis().host();
  options.port = stack_->redis().port();
  redis::Client redis(options);
  for (const DriverRow& row : rows_) {
    types::v1::Value id;
    id.set_int64_val(row.driver_id);
    ASSIGN_OR_RETURN(std::string key, keys::RedisKey({{"driver_id", id}}, kProject));
    ASSIGN_OR_RETURN(
        redis::Reply reply,
        redis.Command({"HSET", key, keys::TimestampField(kView),
                       base::ToProtoTime(row.event_time).SerializeAsString(),
                       keys::FeatureField(kView, "conv_rate"), FeastFloat(row.conv_rate),
                       keys::FeatureField(kView, "acc_rate"),
                       row.acc_rate_null ? FeastNull() : FeastFloat(row.acc_rate),
                       keys::FeatureField(kView, "avg_daily_trips"),
                       FeastInt64(row.avg_daily_trips)}));
    RETURN_IF_ERROR(redis::ReplyStatus(reply));
  }
  return absl::OkStatus();
}

}  // namespace granary::feast_compat
