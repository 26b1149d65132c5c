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
  TrimState seen;
  absl::StatusOr<uint64_t> kept = Trim(seen);
  seen.status = kept.status();
  absl::MutexLock lock(&mu_);
  last_ = std::move(seen);
  return kept;
}

absl::StatusOr<uint64_t> StreamTrimmer::Trim(TrimState& seen) {
  // The floors first, the stream after: a message stored meanwhile is above every floor.
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> floors;
  for (const std::string& consumer : consumers_) {
    ASSIGN_OR_RETURN(ConsumerState state, js_->GetConsumerState(stream_, consumer));
    floors.push_back(state.ack_floor);
    floor = std::min(floor, state.ack_floor);
  }
  ASSIGN_OR_RETURN(seen.stream, js_->GetStreamState(stream_));
  for (size_t i = 0; i < consumers_.size(); ++i) {
    const uint64_t last = seen.stream.last_sequence;
    seen.behind.emplace_back(consumers_[i], last > floors[i] ? last - floors[i] : 0);
  }
  if (consumers_.empty() || seen.stream.messages == 0 || floor < seen.stream.first_sequence) {
    return seen.stream.first_sequence;
  }
  RETURN_IF_ERROR(js_->PurgeBelow(stream_, floor + 1));
  return floor + 1;
}

TrimState StreamTrimmer::Last() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

}  // namespace granary::bus
