// Removes from a stream the messages that every one of the named durable consumers has
// acknowledged: interest retention, done by the client. GRANARY_PUSH keeps what is stored
// (limits retention with a byte bound, discard new, no age) and the materializers trim it
// below the lowest acknowledgement floor of the two writers, because nats-server's own
// interest retention (2.9, Debian 12's) removed, on a replicated stream under load, batches
// one writer had acknowledged before the other had been handed them: acknowledged rows that
// never reached Redis. A floor only moves up, so any number of replicas may trim at once.
//
//   StreamTrimmer trimmer(js, kPushStream, {kOnlineWriter, kOfflineWriter}, absl::Seconds(1));
//   trimmer.Start();  ...  trimmer.Stop();
#ifndef GRANARY_LIBS_BUS_STREAM_TRIMMER_H_
#define GRANARY_LIBS_BUS_STREAM_TRIMMER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/base/periodic.h"
#include "libs/bus/jetstream.h"

namespace granary::bus {

// What the last pass saw, for metrics: how full the stream is and how far behind each consumer
// is (messages stored after its floor).
struct TrimState {
  absl::Status status;  // of the pass (OK before the first)
  StreamState stream;
  std::vector<std::pair<std::string, uint64_t>> behind;
};

class StreamTrimmer {
 public:
  StreamTrimmer(std::shared_ptr<JetStream> js, std::string stream,
                std::vector<std::string> consumers, absl::Duration interval);
  StreamTrimmer(const StreamTrimmer&) = delete;
  StreamTrimmer& operator=(const StreamTrimmer&) = delete;
  ~StreamTrimmer();

  // One pass: the first sequence the stream keeps after it. A consumer that does not exist
  // (NOT_FOUND) or does not answer leaves everything in place.
  absl::StatusOr<uint64_t> TrimOnce();

  // A pass every `interval` on a thread of its own, until Stop.
  void Start() { periodic_.Start(); }
  void Stop() { periodic_.Stop(); }

  TrimState Last() const;

 private:
  absl::StatusOr<uint64_t> Trim(TrimState& seen);

  const std::shared_ptr<JetStream> js_;
  const std::string stream_;
  const std::vector<std::string> consumers_;
  mutable absl::Mutex mu_;
  TrimState last_ ABSL_GUARDED_BY(mu_);
  base::Periodic periodic_;  // last: stopped before the members its passes use go
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STREAM_TRIMMER_H_
