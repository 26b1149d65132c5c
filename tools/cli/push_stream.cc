#include "tools/cli/push_stream.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"

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

std::vector<std::pair<int, int>> CutBatches(const PushTable& table, int batch_rows,
                                            int64_t max_batch_bytes) {
  std::vector<std::pair<int, int>> out;
  const int max_rows = std::max(batch_rows, 1);
  int begin = 0;
  int64_t bytes = 0;
  for (int r = 0; r < table.rows; ++r) {
    // A column's value as it travels: its bytes, a tag and a length.
    int64_t row = 0;
    for (const auto& column : table.values) {
      row += static_cast<int64_t>(column.val(r).ByteSizeLong()) + 2;
    }
    if (r > begin && (r - begin >= max_rows || bytes + row > max_batch_bytes)) {
      out.emplace_back(begin, r);
      begin = r;
      bytes = 0;
    }
    bytes += row;
  }
  if (begin < table.rows) out.emplace_back(begin, table.rows);
  return out;
}

PushReport PushBatches(const std::shared_ptr<grpc::Channel>& channel, const PushTable& table,
                       const StreamOptions& options) {
  PushReport report;
  const std::vector<std::pair<int, int>> ranges =
      CutBatches(table, options.batch_rows, options.max_batch_bytes);
  const int batches = static_cast<int>(ranges.size());
  report.total_batches = batches;
  auto stub = ingestion::v1::IngestionService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  auto stream = stub->PushStream(&ctx);

  // Batch id -> index, for the batches sent and not answered yet.
  std::map<std::string, int> pending;
  // Batches to send again, by when (index -> not before), and how often each was.
  std::multimap<absl::Time, int> retry;
  std::map<int, int> attempts;
  auto answer = [&](const PushStreamResponse& resp) {
    auto it = pending.find(resp.batch_id());
    if (it == pending.end()) return;  // not ours, or answered twice: nothing to count
    const int index = it->second;
    pending.erase(it);
    const auto [first, end] = ranges[index];
    const auto& error = resp.error();
    const bool passing = error.code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED) ||
                         error.code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE);
    if (resp.has_ack()) {
      ++report.batches;
      report.rows += end - first;
      if (resp.ack().duplicate()) ++report.duplicates;
      for (const std::string& view : resp.ack().feature_views()) {
        report.feature_views.insert(view);
      }
    } else if (passing && ++attempts[index] <= options.max_retries) {
      ++report.retries;
      // The service's hint when it gave one; else (JetStream electing a leader, say) a backoff
      // from 100 ms doubling up to 5 s.
      const absl::Duration wait =
          error.retry_after_ms() > 0
              ? absl::Milliseconds(error.retry_after_ms())
              : std::min(absl::Milliseconds(100) * (int64_t{1} << std::min(attempts[index], 6)),
                         absl::Seconds(5));
      retry.emplace(absl::Now() + wait, index);
    } else {
      report.failures.push_back({.index = index,
                                 .batch_id = resp.batch_id(),
                                 .first_row = first,
                                 .rows = end - first,
                                 .code = error.code(),
                                 .message = error.message()});
    }
    if (options.on_progress) {
      options.on_progress(report.rows, static_cast<int>(pending.size()));
    }
  };

  int next = 0;
  while (true) {
    const bool room = report.failures.empty() &&
                      static_cast<int>(pending.size()) < std::max(options.max_in_flight, 1);
    int index = -1;
    if (room && !retry.empty() && retry.begin()->first <= absl::Now()) {
      index = retry.begin()->second;
      retry.erase(retry.begin());
    } else if (room && next < batches) {
      index = next++;
    }
    if (index >= 0) {
      PushStreamRequest req =
          MakeBatch(table, index, ranges[index].first, ranges[index].second, options);
      if (!stream->Write(req)) break;  // the stream is over; Finish says why
      pending.emplace(req.batch().batch_id(), index);
      continue;
    }
    if (pending.empty()) {
      if (retry.empty() || !report.failures.empty()) break;
      // Nothing in flight: wait as long as the service asked before sending again.
      absl::SleepFor(retry.begin()->first - absl::Now());
      continue;
    }
    PushStreamResponse resp;
    if (!stream->Read(&resp)) break;
    answer(resp);
  }
  stream->WritesDone();
  // Whatever else the service says before it ends the stream.
  for (PushStreamResponse resp; stream->Read(&resp);) answer(resp);
  // With the service's hint of when to come back, for a stream it refused or cut.
  report.stream_status = base::FromGrpcStatus(stream->Finish(), ctx);
  const int unsent = report.failures.empty() ? batches - next + static_cast<int>(retry.size()) : 0;
  if (report.stream_status.ok() && (!pending.empty() || unsent > 0)) {
    report.stream_status = absl::InternalError(
        absl::StrCat("the ingestion service ended the stream with ", pending.size() + unsent,
                     " of ", batches, " batches unanswered"));
  }
  return report;
}

}  // namespace granary::cli
