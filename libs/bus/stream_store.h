// The messages a stream stores, read and deleted one by one by sequence: what operators' tools
// need (dead letters are listed, shown and purged this way). JetStream implements it.
//
//   ASSIGN_OR_RETURN(StreamState state, store.GetStreamState("GRANARY_DEADLETTER"));
//   ASSIGN_OR_RETURN(StoredMessage m, store.GetMessage("GRANARY_DEADLETTER",
//   state.first_sequence));
#ifndef GRANARY_LIBS_BUS_STREAM_STORE_H_
#define GRANARY_LIBS_BUS_STREAM_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace granary::bus {

struct StreamState {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  int64_t consumers = 0;
  // Copies a cluster keeps.
  int64_t replicas = 1;
  // The server leading the stream in a cluster (its server_name); empty on one server.
  std::string leader;
};

// One message as the stream stores it.
struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string data;
  std::string message_id;
  absl::Time time;
};

class StreamStore {
 public:
  virtual ~StreamStore() = default;
  // NOT_FOUND when there is no such stream.
  virtual absl::StatusOr<StreamState> GetStreamState(const std::string& stream) = 0;
  // NOT_FOUND when there is no message at that sequence (never was, or deleted).
  virtual absl::StatusOr<StoredMessage> GetMessage(const std::string& stream,
                                                   uint64_t sequence) = 0;
  virtual absl::Status DeleteMessage(const std::string& stream, uint64_t sequence) = 0;
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STREAM_STORE_H_
