#include "services/materializer/dead_letters.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/text_format.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/bus/streams.h"

namespace granary::materializer {

namespace dv1 = deadletter::v1;

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// Letters looked at by one List call at most, so that a narrow filter over a long stream
// answers in bounded time (and hands back a token to go on from).
constexpr uint64_t kMaxScanned = 20000;
constexpr size_t kMaxPayloadText = 64 << 10;

bool IsEmpty(const dv1::DeadLetterFilter& f) {
  return f.project().empty() && f.feature_view().empty() && f.reason_contains().empty() &&
         f.consumer().empty() && !f.has_since() && !f.has_until() && f.sequences().empty();
}

}  // namespace

// A stored letter, decoded, with what its subject says.
struct DeadLetters::Letter {
  uint64_t sequence = 0;
  events::v1::DeadLetter letter;
  std::string project;
  std::string feature_view;

  dv1::DeadLetter ToProto(bool with_payload) const {
    dv1::DeadLetter out;
    out.set_sequence(sequence);
    out.set_consumer(letter.consumer());
    out.set_subject(letter.subject());
    out.set_project(project);
    out.set_feature_view(feature_view);
    out.set_reason(letter.reason());
    out.set_deliveries(letter.deliveries());
    *out.mutable_time() = letter.time();
    out.set_message_id(letter.message_id());
    out.set_partial(letter.partial());
    events::v1::PushBatch batch;
    const bool is_batch = absl::StartsWith(letter.subject(), "granary.push.") &&
                          batch.ParseFromString(letter.payload());
    if (is_batch) {
      out.set_batch_id(batch.batch_id());
      out.set_rows(batch.rows_size());
    }
    if (with_payload) {
      out.set_payload(letter.payload());
      if (is_batch) {
        std::string text;
        google::protobuf::TextFormat::PrintToString(batch, &text);
        if (text.size() > kMaxPayloadText) text = text.substr(0, kMaxPayloadText) + "\n...";
        out.set_payload_text(text);
      }
    }
    return out;
  }

  bool Matches(const dv1::DeadLetterFilter& f) const {
    if (!f.sequences().empty() &&
        std::find(f.sequences().begin(), f.sequences().end(), sequence) == f.sequences().end()) {
      return false;
    }
    if (!f.project().empty() && f.project() != project) return false;
    if (!f.feature_view().empty() && f.feature_view() != feature_view) return false;
    if (!f.consumer().empty() && f.consumer() != letter.consumer()) return false;
    if (!f.reason_contains().empty() && !absl::StrContains(letter.reason(), f.reason_contains())) {
      return false;
    }
    const absl::Time at = base::FromProtoTime(letter.time());
    if (f.has_since() && at < base::FromProtoTime(f.since())) return false;
    if (f.has_until() && at >= base::FromProtoTime(f.until())) return false;
    return true;
  }
};

absl::StatusOr<uint64_t> DeadLetters::Scan(
    const dv1::DeadLetterFilter& filter, uint64_t from, uint64_t max_scanned,
    const std::function<absl::StatusOr<bool>(const Letter&)>& visit) {
  absl::StatusOr<bus::StreamState> state = store_->GetStreamState(bus::kDeadLetterStream);
  if (absl::IsNotFound(state.status())) return 0;  // nothing was ever dead-lettered
  RETURN_IF_ERROR(state.status());
  if (state->messages == 0) return 0;
  uint64_t seq = std::max(from, state->first_sequence);
  for (uint64_t scanned = 0; seq <= state->last_sequence; ++seq) {
    if (scanned++ == max_scanned) return seq;
    absl::StatusOr<bus::StoredMessage> stored = store_->GetMessage(bus::kDeadLetterStream, seq);
    if (absl::IsNotFound(stored.status())) continue;  // purged
    RETURN_IF_ERROR(stored.status());
    Letter letter;
    letter.sequence = seq;
    if (!letter.letter.ParseFromString(stored->data)) {
      return absl::DataLossError(absl::StrCat("dead letter ", seq, " is unreadable"));
    }
    // granary.push.<project>.<view>, granary.cleanup.<project>
    std::vector<std::string> parts = absl::StrSplit(letter.letter.subject(), '.');
    if (parts.size() >= 3) letter.project = parts[2];
    if (parts.size() >= 4 && parts[1] == "push") letter.feature_view = parts[3];
    if (!letter.Matches(filter)) continue;
    ASSIGN_OR_RETURN(bool more, visit(letter));
    if (!more) return seq + 1;
  }
  return 0;
}

absl::StatusOr<dv1::ListDeadLettersResponse> DeadLetters::List(
    const dv1::ListDeadLettersRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 0 and ", kMaxPageSize));
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  uint64_t from = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &from)) {
    return absl::InvalidArgumentError("page_token: not a token from this server");
  }
  dv1::ListDeadLettersResponse response;
  ASSIGN_OR_RETURN(
      uint64_t next,
      Scan(request.filter(), from, kMaxScanned, [&](const Letter& letter) -> absl::StatusOr<bool> {
        *response.add_letters() = letter.ToProto(/*with_payload=*/false);
        return response.letters_size() < page_size;
      }));
  if (next != 0) response.set_next_page_token(absl::StrCat(next));
  return response;
}

absl::StatusOr<dv1::DeadLetter> DeadLetters::Get(uint64_t sequence) {
  dv1::DeadLetterFilter only;
  only.add_sequences(sequence);
  std::optional<dv1::DeadLetter> found;
  RETURN_IF_ERROR(Scan(only, sequence, 1, [&](const Letter& letter) -> absl::StatusOr<bool> {
                    found = letter.ToProto(/*with_payload=*/true);
                    return false;
                  }).status());
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("sequence: no dead letter ", sequence));
  }
  return *found;
}

absl::StatusOr<dv1::ReplayDeadLettersResponse> DeadLetters::Replay(
    const dv1::ReplayDeadLettersRequest& request) {
  if (IsEmpty(request.filter()) && !request.all()) {
    return absl::InvalidArgumentError(
        "filter: empty; name what to replay, or set `all` to replay every dead letter");
  }
  dv1::ReplayDeadLettersResponse response;
  RETURN_IF_ERROR(
      Scan(request.filter(), 0, std::numeric_limits<uint64_t>::max(),
           [&](const Letter& letter) -> absl::StatusOr<bool> {
             const std::string original = letter.letter.message_id().empty()
                                              ? letter.letter.subject()
                                              : letter.letter.message_id();
             absl::StatusOr<bus::PublishAck> ack =
                 publisher_->Publish(letter.letter.subject(), letter.letter.payload(),
                                     absl::StrCat(original, "/replay-", letter.sequence));
             if (!ack.ok()) {
               return absl::Status(ack.status().code(),
                                   absl::StrCat("replaying dead letter ", letter.sequence, " (",
                                                response.replayed(),
                                                " replayed before it): ", ack.status().message()));
             }
             response.set_replayed(response.replayed() + 1);
             if (ack->duplicate) response.set_duplicates(response.duplicates() + 1);
             response.add_sequences(letter.sequence);
             return true;
           })
          .status());
  return response;
}

absl::StatusOr<dv1::PurgeDeadLettersResponse> DeadLetters::Purge(
    const dv1::PurgeDeadLettersRequest& request) {
  if (IsEmpty(request.filter()) && !request.all()) {
    return absl::InvalidArgumentError(
        "filter: empty; name what to purge, or set `all` to purge every dead letter");
  }
  std::vector<uint64_t> matching;
  RETURN_IF_ERROR(Scan(request.filter(), 0, std::numeric_limits<uint64_t>::max(),
                       [&](const Letter& letter) -> absl::StatusOr<bool> {
                         matching.push_back(letter.sequence);
                         return true;
                       })
                      .status());
  dv1::PurgeDeadLettersResponse response;
  for (uint64_t seq : matching) {
    absl::Status deleted = store_->DeleteMessage(bus::kDeadLetterStream, seq);
    if (absl::IsNotFound(deleted)) continue;  // purged meanwhile
    RETURN_IF_ERROR(deleted);
    response.set_purged(response.purged() + 1);
    response.add_sequences(seq);
  }
  return response;
}

}  // namespace granary::materializer
