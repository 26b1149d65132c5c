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

// Rows a sink that writes together gets at once (a batch bigger than that goes alone).
constexpr int kRowsTogether = 1024;

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

std::vector<Handled> PushHandler::HandleAll(absl::Span<bus::Message* const> messages,
                                            absl::Duration keep_alive_after) {
  if (!sink_->writes_together()) return MessageHandler::HandleAll(messages, keep_alive_after);
  std::vector<Handled> handled(messages.size());
  std::vector<events::v1::PushBatch> batches(messages.size());
  std::vector<const events::v1::PushBatch*> wanted;
  std::vector<size_t> wanted_at;  // the message of each wanted batch
  for (size_t i = 0; i < messages.size(); ++i) {
    if (absl::Status decoded = Decode(*messages[i], &batches[i]); !decoded.ok()) {
      handled[i] = {decoded};
    } else if (!sink_->Wants(batches[i])) {
      handled[i] = {.status = absl::OkStatus(), .skipped = true};
    } else {
      wanted.push_back(&batches[i]);
      wanted_at.push_back(i);
    }
  }
  // In runs of about kRowsTogether rows: each within one write timeout, the messages of the
  // runs still to come kept alive once the fetch has taken long.
  const absl::Time start = absl::Now();
  for (size_t begin = 0; begin < wanted.size();) {
    size_t end = begin;
    for (int rows = 0;
         end < wanted.size() && (end == begin || rows + wanted[end]->rows_size() <= kRowsTogether);
         ++end) {
      rows += wanted[end]->rows_size();
    }
    if (begin > 0 && absl::Now() - start > keep_alive_after) {
      for (size_t w = begin; w < end; ++w) (void)messages[wanted_at[w]]->InProgress();
    }
    std::vector<absl::StatusOr<SinkResult>> results =
        sink_->WriteAll(absl::MakeConstSpan(wanted).subspan(begin, end - begin));
    for (size_t w = begin; w < end; ++w) {
      absl::StatusOr<SinkResult> result =
          w - begin < results.size()
              ? std::move(results[w - begin])
              : absl::InternalError("the store gave no answer for this batch");
      handled[wanted_at[w]] = Outcome(*wanted[w], std::move(result), *sink_);
    }
    begin = end;
  }
  return handled;
}

}  // namespace granary::materializer
