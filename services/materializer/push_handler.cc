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

Handled PushHandler::Handle(bus::Message& message) {
  events::v1::PushBatch batch;
  if (!batch.ParseFromArray(message.data().data(), static_cast<int>(message.data().size()))) {
    return {absl::DataLossError(
        absl::StrCat("undecodable push batch (", message.data().size(), " bytes)"))};
  }
  // If the ack is lost, it comes back and is skipped again.
  if (!sink_->Wants(batch)) return {.status = absl::OkStatus(), .skipped = true};
  absl::StatusOr<SinkResult> result = sink_->Write(batch);
  if (!result.ok()) return {result.status()};
  Handled handled{absl::OkStatus()};
  if (!result->rejected_rows.empty()) {
    handled.rejected = Handled::Rejected{
        .payload = RejectedPart(batch, result->rejected_rows, *sink_).SerializeAsString(),
        .reason = absl::StrCat(result->rejected_rows.size(), " of ", batch.rows_size(),
                               " rows not written: ", result->reason),
        .part = absl::StrCat(sink_->name(), "-rejected")};
  }
  return handled;
}

}  // namespace granary::materializer
