#include "services/materializer/push_handler.h"

#include "absl/strings/str_cat.h"

namespace granary::materializer {

events::v1::PushBatch RejectedPart(const events::v1::PushBatch& batch, const std::vector<int>& rows,
                                   const BatchSink& sink) {
  events::v1::PushBatch part = batch;
  part.clear_rows();
  for (int r : rows) *part.add_rows() = batch.rows(r);
  const bool online = absl::string_view(sink.name()) == "online";
  part.set_online(online);
  part.set_offline(!online);
  part.set_batch_id(absl::StrCat(batch.batch_id(), ":", sink.name(), "-rejected"));
  return part;
}

std::vector<absl::StatusOr<SinkResult>> BatchSink::WriteAll(
    absl::Span<const events::v1::PushBatch* const> batches) {
  std::vector<absl::StatusOr<SinkResult>> results;
  results.reserve(batches.size());
  for (const events::v1::PushBatch* batch : batches) results.push_back(Write(*batch));
  return results;
}

namespace {

// What becomes of a message from what the sink made of its batch.
Handled Outcome(const events::v1::PushBatch& batch, absl::StatusOr<SinkResult> result,
                const BatchSink& sink) {
  if (!result.ok()) return {result.status()};
  Handled handled{absl::OkStatus()};
  if (!result->rejected_rows.empty()) {
    handled.rejected = Handled::Rejected{
        .payload = RejectedPart(batch, result->rejected_rows, sink).SerializeAsString(),
        .reason = absl::StrCat(result->rejected_rows.size(), " of ", batch.rows_size(),
                               " rows not written: ", result->reason),
        .part = absl::StrCat(sink.name(), "-rejected")};
  }
  return handled;
}

absl::Status Decode(const bus::Message& message, events::v1::PushBatch* batch) {
  if (!batch->ParseFromArray(message.data().data(), static_cast<int>(message.data().size()))) {
    return absl::DataLossError(
        absl::StrCat("undecodable push batch (", message.data().size(), " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace

Handled PushHandler::Handle(bus::Message& message) {
  events::v1::PushBatch batch;
  if (absl::Status decoded = Decode(message, &batch); !decoded.ok()) return {decoded};
  // If the ack is lost, it comes back and is skipped again.
  if (!sink_->Wants(batch)) return {.status = absl::OkStatus(), .skipped = true};
  return Outcome(batch, sink_->Write(batch), *sink_);
}

void PushHandler::HandleAll(absl::Span<bus::Message* const> messages, const KeepAlive& keep_alive,
                            SettleFn settle) {
  if (!sink_->writes_together()) {
    MessageHandler::HandleAll(messages, keep_alive, settle);
    return;
  }
  absl::Time kept = keep_alive.clock->Now();
  for (size_t begin = 0; begin < messages.size();) {
    size_t end = begin + 1;
    for (size_t bytes = messages[begin]->data().size();
         end < messages.size() && bytes + messages[end]->data().size() <= kBytesTogether; ++end) {
      bytes += messages[end]->data().size();
    }
    keep_alive.IfDue(messages.subspan(begin), &kept);
    // Decoded for this run only, and freed before the next.
    std::vector<events::v1::PushBatch> batches(end - begin);
    std::vector<const events::v1::PushBatch*> wanted;
    std::vector<size_t> wanted_at;  // the message of each wanted batch
    for (size_t i = begin; i < end; ++i) {
      events::v1::PushBatch& batch = batches[i - begin];
      if (absl::Status decoded = Decode(*messages[i], &batch); !decoded.ok()) {
        settle(i, {decoded});
      } else if (!sink_->Wants(batch)) {
        settle(i, {.status = absl::OkStatus(), .skipped = true});
      } else {
        wanted.push_back(&batch);
        wanted_at.push_back(i);
      }
    }
    std::vector<absl::StatusOr<SinkResult>> results;
    if (!wanted.empty()) results = sink_->WriteAll(wanted);
    for (size_t w = 0; w < wanted.size(); ++w) {
      absl::StatusOr<SinkResult> result =
          w < results.size() ? std::move(results[w])
                             : absl::InternalError("the store gave no answer for this batch");
      settle(wanted_at[w], Outcome(*wanted[w], std::move(result), *sink_));
    }
    begin = end;
  }
}

}  // namespace granary::materializer
