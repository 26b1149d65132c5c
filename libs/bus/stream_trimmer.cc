#include "libs/bus/stream_trimmer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::bus {

StreamTrimmer::StreamTrimmer(std::shared_ptr<JetStream> js, std::string stream,
                             std::vector<std::string> consumers, absl::Duration interval)
    : js_(std::move(js)),
      stream_(std::move(stream)),
      consumers_(std::move(consumers)),
      periodic_(absl::StrCat("trim stream ", stream_), interval,
                [this] { return TrimOnce().status(); }) {}

StreamTrimmer::~StreamTrimmer() { Stop(); }

absl::StatusOr<uint64_t> StreamTrimmer::TrimOnce() {
  // The floors first, the stream after: a message stored meanwhile is above every floor.
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  for (const std::string& consumer : consumers_) {
    ASSIGN_OR_RETURN(ConsumerState state, js_->GetConsumerState(stream_, consumer));
    floor = std::min(floor, state.ack_floor);
  }
  ASSIGN_OR_RETURN(StreamState stream, js_->GetStreamState(stream_));
  if (consumers_.empty() || stream.messages == 0 || floor < stream.first_sequence) {
    return stream.first_sequence;
  }
  RETURN_IF_ERROR(js_->PurgeBelow(stream_, floor + 1));
  return floor + 1;
}

}  // namespace granary::bus
