// absl::Time and absl::Duration to and from google.protobuf.Timestamp and Duration.
//
//   *event.mutable_committed_time() = ToProtoTime(absl::Now());
#ifndef GRANARY_LIBS_BASE_PROTO_TIME_H_
#define GRANARY_LIBS_BASE_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace granary::base {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
google::protobuf::Duration ToProtoDuration(absl::Duration d);
absl::Duration FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_PROTO_TIME_H_
