// The StreamWorker handler of pushed batches (stream GRANARY_PUSH): decodes a PushBatch and
// hands it to a BatchSink, the online or the offline store. A batch the sink takes only in
// part (rows the store refuses for good) comes back as a rejected part: a PushBatch of just
// those rows, meant for this sink alone, to be dead-lettered while the rest is acknowledged.
//
//   auto handler = std::make_shared<PushHandler>(std::make_shared<OnlineWriter>(...));
#ifndef GRANARY_SERVICES_MATERIALIZER_PUSH_HANDLER_H_
#define GRANARY_SERVICES_MATERIALIZER_PUSH_HANDLER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "granary/events/v1/events.pb.h"

#include "services/materializer/stream_worker.h"

namespace granary::materializer {

// Rows of a batch a store refused for good, by index, and why.
struct SinkResult {
  std::vector<int> rejected_rows;
  std::string reason;
};

// Where a pushed batch goes: the online or the offline store.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // "online" or "offline": names the rejected parts.
  virtual const char* name() const = 0;
  // Whether the batch is for this store (pushed to it); others are acknowledged untouched.
  virtual bool Wants(const events::v1::PushBatch& batch) const = 0;
  // Stores the batch; applying it twice stores it once. Errors as StreamWorker's handlers.
  virtual absl::StatusOr<SinkResult> Write(const events::v1::PushBatch& batch) = 0;
  // Whether WriteAll stores several batches in fewer round trips than one each (it is given
  // up to PushHandler::kBytesTogether of them, or one larger batch alone).
  virtual bool writes_together() const { return false; }
  // Several batches, each stored as Write would, one answer each, in order.
  virtual std::vector<absl::StatusOr<SinkResult>> WriteAll(
      absl::Span<const events::v1::PushBatch* const> batches);
};

class PushHandler : public MessageHandler {
 public:
  // What a sink that writes together gets at once: a few thousand rows of the usual batches,
  // a few MB once decoded.
  static constexpr size_t kBytesTogether = 256 << 10;

  explicit PushHandler(std::shared_ptr<BatchSink> sink) : sink_(std::move(sink)) {}
  Handled Handle(bus::Message& message) override;
  // Together when the sink writes together: the fetch in runs of up to kBytesTogether of
  // messages (a bigger message alone), each run decoded, written in one round trip to the
  // store and settled before the next is decoded.
  void HandleAll(absl::Span<bus::Message* const> messages, const KeepAlive& keep_alive,
                 SettleFn settle) override;

 private:
  const std::shared_ptr<BatchSink> sink_;
};

// The part of `batch` made of `rows`, for `sink` alone (a replay of it reaches no other
// store), with its own batch id so that the offline store's ledger tells it from the batch.
events::v1::PushBatch RejectedPart(const events::v1::PushBatch& batch, const std::vector<int>& rows,
                                   const BatchSink& sink);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_PUSH_HANDLER_H_
