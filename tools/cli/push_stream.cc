#include "tools/cli/push_stream.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"

namespace granary::cli {
namespace {

using ingestion::v1::PushStreamRequest;
using ingestion::v1::PushStreamResponse;

// Rows [begin, end) of the table as batch `index`.
PushStreamRequest MakeBatch(const PushTable& table, int index, int begin, int end,
                            const StreamOptions& options) {
  PushStreamRequest req;
  ingestion::v1::PushRequest* batch = req.mutable_batch();
  batch->set_project(options.project);
  batch->set_push_source_name(options.push_source);
  batch->set_to(options.to);
  batch->set_batch_id(absl::StrCat(options.id_prefix, "-", index));
  for (size_t c = 0; c < table.columns.size(); ++c) {
    types::v1::RepeatedValue& column = (*batch->mutable_columns())[table.columns[c]];
    column.mutable_val()->Reserve(end - begin);
    for (int r = begin; r < end; ++r) *column.add_val() = table.values[c].val(r);
  }
  return req;
}

}  // namespace

PushReport PushBatches(const std::shared_ptr<grpc::Channel>& channel, const PushTable& table,
                       const StreamOptions& options) {
  PushReport report;
  const int size = std::max(options.batch_rows, 1);
  const int batches = (table.rows + size - 1) / size;
  auto stub = ingestion::v1::IngestionService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  auto stream = stub->PushStream(&ctx);

  // Batch id -> index, for the batches sent and not answered yet.
  std::map<std::string, int> pending;
  auto answer = [&](const PushStreamResponse& resp) {
    auto it = pending.find(resp.batch_id());
    if (it == pending.end()) return;  // not ours, or answered twice: nothing to count
    const int index = it->second;
    pending.erase(it);
    const int first = index * size;
    if (resp.has_ack()) {
      ++report.batches;
      report.rows += std::min(first + size, table.rows) - first;
      if (resp.ack().duplicate()) ++report.duplicates;
      for (const std::string& view : resp.ack().feature_views()) {
        report.feature_views.insert(view);
      }
    } else {
      report.failures.push_back({.index = index,
                                 .batch_id = resp.batch_id(),
                                 .first_row = first,
                                 .code = resp.error().code(),
                                 .message = resp.error().message()});
    }
    if (options.on_progress) {
      options.on_progress(report.rows, static_cast<int>(pending.size()));
    }
  };

  int next = 0;
  while (true) {
    const bool send = report.failures.empty() && next < batches &&
                      static_cast<int>(pending.size()) < std::max(options.max_in_flight, 1);
    if (send) {
      int begin = next * size;
      PushStreamRequest req =
          MakeBatch(table, next, begin, std::min(begin + size, table.rows), options);
      if (!stream->Write(req)) break;  // the stream is over; Finish says why
      pending.emplace(req.batch().batch_id(), next++);
      continue;
    }
    if (pending.empty()) break;
    PushStreamResponse resp;
    if (!stream->Read(&resp)) break;
    answer(resp);
  }
  stream->WritesDone();
  // Whatever else the service says before it ends the stream.
  for (PushStreamResponse resp; stream->Read(&resp);) answer(resp);
  report.stream_status = base::FromGrpcStatus(stream->Finish());
  const int unsent = report.failures.empty() ? batches - next : 0;
  if (report.stream_status.ok() && (!pending.empty() || unsent > 0)) {
    report.stream_status = absl::InternalError(
        absl::StrCat("the ingestion service ended the stream with ", pending.size() + unsent,
                     " of ", batches, " batches unanswered"));
  }
  return report;
}

}  // namespace granary::cli
