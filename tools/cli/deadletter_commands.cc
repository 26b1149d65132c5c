#include "tools/cli/deadletter_commands.h"

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "granary/deadletter/v1/deadletter.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "tools/cli/command.h"
#include "tools/cli/output.h"
#include "tools/cli/time_text.h"

namespace granary::cli {
namespace {

namespace dv1 = deadletter::v1;

constexpr absl::Duration kTimeout = absl::Minutes(2);

absl::StatusOr<absl::Time> ParseWhen(const std::string& flag, const std::string& text,
                                     absl::Time now) {
  absl::StatusOr<absl::Time> t = ParseTimeText(text, now);
  if (!t.ok())
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", t.status().message()));
  return t;
}

std::unique_ptr<dv1::DeadLetterService::Stub> Stub(const Target& materializer) {
  return dv1::DeadLetterService::NewStub(OpenChannel(materializer));
}

void Deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
}

int Fail(absl::string_view verb, const Target& materializer, const grpc::Status& status,
         CommandIo io) {
  io.err << "granary deadletter " << verb << ": " << status.error_message() << " ("
         << base::StatusCodeName(status.error_code()) << ", materializer at "
         << materializer.address << ")"
         << AuthHint(materializer, static_cast<absl::StatusCode>(status.error_code())) << "\n";
  return kExitFailure;
}

std::string When(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", base::FromProtoTime(t), absl::UTCTimeZone());
}

std::string Clip(const std::string& text, size_t n) {
  return text.size() <= n ? text : text.substr(0, n - 3) + "...";
}

}  // namespace

absl::StatusOr<dv1::DeadLetterFilter> BuildFilter(const DeadLetterQuery& query, absl::Time now) {
  dv1::DeadLetterFilter filter;
  filter.set_project(query.project);
  filter.set_feature_view(query.feature_view);
  filter.set_reason_contains(query.reason);
  filter.set_consumer(query.consumer);
  if (!query.since.empty()) {
    absl::StatusOr<absl::Time> since = ParseWhen("since", query.since, now);
    if (!since.ok()) return since.status();
    *filter.mutable_since() = base::ToProtoTime(*since);
  }
  if (!query.until.empty()) {
    absl::StatusOr<absl::Time> until = ParseWhen("until", query.until, now);
    if (!until.ok()) return until.status();
    *filter.mutable_until() = base::ToProtoTime(*until);
  }
  for (uint64_t s : query.sequences) filter.add_sequences(s);
  return filter;
}

int DeadLetterList(const Target& materializer, const DeadLetterQuery& query, CommandIo io) {
  absl::StatusOr<dv1::DeadLetterFilter> filter = BuildFilter(query, absl::Now());
  if (!filter.ok()) {
    io.err << "granary deadletter list: " << filter.status().message() << "\n";
    return kExitUsage;
  }
  auto stub = Stub(materializer);
  dv1::ListDeadLettersResponse all;
  dv1::ListDeadLettersRequest request;
  *request.mutable_filter() = *filter;
  do {
    request.set_page_size(std::min(1000, query.limit - all.letters_size()));
    dv1::ListDeadLettersResponse page;
    grpc::ClientContext ctx;
    Deadline(ctx);
    if (grpc::Status s = stub->ListDeadLetters(&ctx, request, &page); !s.ok()) {
      return Fail("list", materializer, s, io);
    }
    for (auto& letter : *page.mutable_letters()) *all.add_letters() = std::move(letter);
    request.set_page_token(page.next_page_token());
    all.set_next_page_token(page.next_page_token());
  } while (!request.page_token().empty() && all.letters_size() < query.limit);
  if (io.json) {
    io.out << ToJson(all) << "\n";
    return 0;
  }
  if (all.letters().empty()) {
    io.out << "no dead letters\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"SEQ", "TIME (UTC)", "CONSUMER", "PROJECT", "VIEW", "BATCH", "ROWS", "REASON"}};
  for (const dv1::DeadLetter& l : all.letters()) {
    rows.push_back({absl::StrCat(l.sequence()), When(l.time()), l.consumer(), l.project(),
                    l.feature_view(), Clip(l.batch_id(), 24),
                    absl::StrCat(l.rows(), l.partial() ? " (part)" : ""), Clip(l.reason(), 80)});
  }
  PrintTable(rows, io.out);
  if (!all.next_page_token().empty()) {
    io.out << "(more: raise --limit, or narrow the filter)\n";
  }
  return 0;
}

int DeadLetterShow(const Target& materializer, uint64_t sequence, CommandIo io) {
  dv1::GetDeadLetterRequest request;
  request.set_sequence(sequence);
  dv1::DeadLetter letter;
  grpc::ClientContext ctx;
  Deadline(ctx);
  if (grpc::Status s = Stub(materializer)->GetDeadLetter(&ctx, request, &letter); !s.ok()) {
    return Fail("show", materializer, s, io);
  }
  if (io.json) {
    io.out << ToJson(letter) << "\n";
    return 0;
  }
  io.out << "sequence:    " << letter.sequence() << "\n"
         << "time:        " << When(letter.time()) << " UTC\n"
         << "consumer:    " << letter.consumer() << "\n"
         << "subject:     " << letter.subject() << "\n"
         << "message id:  " << letter.message_id() << "\n"
         << "deliveries:  " << letter.deliveries() << "\n"
         << "reason:      " << letter.reason() << "\n";
  if (!letter.batch_id().empty()) {
    io.out << "batch:       " << letter.batch_id() << ", " << letter.rows() << " rows"
           << (letter.partial() ? " (the rows refused; the rest of the batch was written)" : "")
           << "\n\n"
           << letter.payload_text();
  } else {
    io.out << "payload:     " << letter.payload().size() << " bytes\n";
  }
  return 0;
}

namespace {

// What the materializer said of a request it refused, with the flags that name a filter when
// it was refused for having none.
std::string RefusedFilter(const grpc::Status& status) {
  std::string out = status.error_message();
  if (absl::StartsWith(out, "filter: empty")) {
    absl::StrAppend(&out,
                    " (--project, --view, --reason, --consumer, --since, --until or "
                    "sequences, or --all)");
  }
  return out;
}

}  // namespace

int DeadLetterReplay(const Target& materializer, const DeadLetterQuery& query, CommandIo io) {
  absl::StatusOr<dv1::DeadLetterFilter> filter = BuildFilter(query, absl::Now());
  if (!filter.ok()) {
    io.err << "granary deadletter replay: " << filter.status().message() << "\n";
    return kExitUsage;
  }
  dv1::ReplayDeadLettersRequest request;
  *request.mutable_filter() = *filter;
  request.set_all(query.all);
  dv1::ReplayDeadLettersResponse response;
  grpc::ClientContext ctx;
  Deadline(ctx);
  if (grpc::Status s = Stub(materializer)->ReplayDeadLetters(&ctx, request, &response); !s.ok()) {
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      io.err << "granary deadletter replay: " << RefusedFilter(s) << "\n";
      return kExitUsage;
    }
    return Fail("replay", materializer, s, io);
  }
  if (io.json) {
    io.out << ToJson(response) << "\n";
  } else {
    io.out << "replayed " << response.replayed() << " dead letters";
    if (response.duplicates() > 0) {
      io.out << " (" << response.duplicates() << " replayed before: nothing stored twice)";
    }
    io.out << "; they stay listed until purged\n";
  }
  return 0;
}

int DeadLetterPurge(const Target& materializer, const DeadLetterQuery& query, CommandIo io) {
  absl::StatusOr<dv1::DeadLetterFilter> filter = BuildFilter(query, absl::Now());
  if (!filter.ok()) {
    io.err << "granary deadletter purge: " << filter.status().message() << "\n";
    return kExitUsage;
  }
  dv1::PurgeDeadLettersRequest request;
  *request.mutable_filter() = *filter;
  request.set_all(query.all);
  dv1::PurgeDeadLettersResponse response;
  grpc::ClientContext ctx;
  Deadline(ctx);
  if (grpc::Status s = Stub(materializer)->PurgeDeadLetters(&ctx, request, &response); !s.ok()) {
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      io.err << "granary deadletter purge: " << RefusedFilter(s) << "\n";
      return kExitUsage;
    }
    return Fail("purge", materializer, s, io);
  }
  if (io.json) {
    io.out << ToJson(response) << "\n";
  } else {
    io.out << "purged " << response.purged() << " dead letters\n";
  }
  return 0;
}

void AddDeadLetterCommands(CLI::App& app, int* exit_code) {
  struct State {
    DeadLetterQuery letters;
    std::string materializer, repo = ".";
    bool json = false;
    uint64_t sequence = 0;
  };
  auto s = std::make_shared<State>();
  CLI::App* deadletter = app.add_subcommand(
      "deadletter", "What the materializer could never process: list, show, replay, purge");
  deadletter->require_subcommand(1);
  auto add_common = [s](CLI::App* cmd) {
    cmd->add_option("--materializer", s->materializer,
                    "The materializer, host:port (default: granary.yaml materializer_endpoint, "
                    "else through the gateway)");
    cmd->add_option("--repo,-r", s->repo, "The feature repository folder (default: .)");
    cmd->add_flag("--json", s->json, "Print JSON for scripts");
  };
  auto add_filters = [s, add_common](CLI::App* cmd, bool sequences) {
    cmd->add_option("--project,-p", s->letters.project, "Only this project's");
    cmd->add_option("--view", s->letters.feature_view, "Only this feature view's");
    cmd->add_option("--reason", s->letters.reason, "Only those whose reason contains this text");
    cmd->add_option("--consumer", s->letters.consumer,
                    "Only this worker's: online-writer, offline-writer, online-cleaner");
    cmd->add_option("--since", s->letters.since,
                    "Dead-lettered since: a time, e.g. now-2h or RFC 3339");
    cmd->add_option("--until", s->letters.until,
                    "Dead-lettered before: a time, e.g. now-2h or RFC 3339");
    if (sequences) cmd->add_option("sequences", s->letters.sequences, "Only these letters");
    add_common(cmd);
  };
  // Runs `run` against the materializer of the flags, else of granary.yaml.
  auto on_materializer = [deadletter, s, exit_code](const std::function<int(const Target&)>& run) {
    absl::StatusOr<RepoConfig> defaults = RepoDefaults(s->repo);
    if (!defaults.ok()) {
      return void(*exit_code = Failure("deadletter", defaults.status().message()));
    }
    absl::StatusOr<Targets> targets =
        ResolveTargets(GlobalFlagsOf(deadletter), {.materializer = s->materializer}, *defaults);
    if (!targets.ok()) return void(*exit_code = Failure("deadletter", targets.status().message()));
    *exit_code = run(targets->materializer);
  };
  auto io = [s] { return CommandIo{std::cout, std::cerr, s->json}; };

  CLI::App* list = deadletter->add_subcommand("list", "List dead letters, oldest first");
  add_filters(list, false);
  list->add_option("--limit,-n", s->letters.limit, "At most this many (default 100)");
  list->callback([=] {
    if (s->letters.limit < 1)
      return void(*exit_code = Usage("deadletter list", "--limit: at least 1"));
    on_materializer([&](const Target& m) { return DeadLetterList(m, s->letters, io()); });
  });
  CLI::App* show = deadletter->add_subcommand("show", "One dead letter in full");
  show->add_option("sequence", s->sequence, "Its sequence (from list)")->required();
  add_common(show);
  show->callback([=] {
    on_materializer([&](const Target& m) { return DeadLetterShow(m, s->sequence, io()); });
  });
  CLI::App* replay = deadletter->add_subcommand(
      "replay",
      "Publish matching letters' messages again, with their original batch ids: what is still "
      "missing is stored, once");
  add_filters(replay, true);
  replay->add_flag("--all", s->letters.all, "Every dead letter (when no filter is given)");
  replay->callback([=] {
    on_materializer([&](const Target& m) { return DeadLetterReplay(m, s->letters, io()); });
  });
  CLI::App* purge = deadletter->add_subcommand("purge", "Delete matching dead letters for good");
  add_filters(purge, true);
  purge->add_flag("--all", s->letters.all, "Every dead letter (when no filter is given)");
  purge->callback([=] {
    on_materializer([&](const Target& m) { return DeadLetterPurge(m, s->letters, io()); });
  });
}

}  // namespace granary::cli
