// Drives PushStream for the ingestion benchmark: batches go out on one stream with up to
// `in_flight` awaiting their ack, either as fast as acks allow or at a fixed pace; the send
// and ack time of every batch are kept.
//
//   PushDriver driver(address, 64);
//   ASSIGN_OR_RETURN(PushRun run, driver.Run(make_batch, count, /*per_second=*/0));
#ifndef GRANARY_TOOLS_BENCH_PUSH_DRIVER_H_
#define GRANARY_TOOLS_BENCH_PUSH_DRIVER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/ingestion/v1/ingestion.pb.h"

namespace granary::bench {

struct PushRun {
  absl::Time start;
  absl::Time end;                 // the last ack
  std::vector<absl::Time> sent;   // by batch index
  std::vector<absl::Time> acked;  // by batch index
  int64_t rows = 0;
  // Sends turned away for now (RESOURCE_EXHAUSTED) and made again after the hint.
  int64_t refused = 0;
  // Sends answered UNAVAILABLE (not ready yet, a backend away) and made again after a pause.
  int64_t unavailable = 0;
  // Streams ended under the driver (RESOURCE_EXHAUSTED, UNAVAILABLE): it opened another and sent
  // again what was not answered.
  int64_t streams_cut = 0;
};

class PushDriver {
 public:
  PushDriver(std::string address, int in_flight)
      : address_(std::move(address)), in_flight_(in_flight) {}

  // Sends batches 0..count-1 (batch i from make(i), with a batch id unique to the run); paced at
  // `per_second` batches a second, or unpaced when 0. A batch refused for now
  // (RESOURCE_EXHAUSTED, UNAVAILABLE) is sent again after the service's hint, and so are the
  // unanswered batches of a stream that ended RESOURCE_EXHAUSTED or UNAVAILABLE, on a new one;
  // any other error ends the run.
  absl::StatusOr<PushRun> Run(const std::function<ingestion::v1::PushRequest(int)>& make, int count,
                              double per_second);

 private:
  const std::string address_;
  const int in_flight_;
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_PUSH_DRIVER_H_
