#include "tools/cli/push_command.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include <openssl/evp.h>

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"
#include "tools/cli/command.h"
#include "tools/cli/push_file.h"
#include "tools/cli/push_stream.h"

namespace granary::cli {
namespace {

using registry::v1::DataSource;
using types::v1::ValueType;

const DataSource* FindSource(const registry::v1::FeatureRepo& repo, const std::string& name) {
  for (const DataSource& s : repo.data_sources()) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

// The push source's schema; nullopt (with a warning) when the registry cannot be asked.
absl::StatusOr<std::optional<PushSchema>> AskRegistry(const Target& registry,
                                                      const PushOptions& options,
                                                      std::ostream& err) {
  const char* fallback = "; column types are guessed from the values\n";
  if (registry.address.empty() || options.project.empty()) {
    err << "granary push: no project or registry to ask for the push source's schema" << fallback;
    return std::nullopt;
  }
  auto stub = registry::v1::RegistryService::NewStub(OpenChannel(registry));
  registry::v1::GetSnapshotRequest req;
  req.set_project(options.project);
  registry::v1::GetSnapshotResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  if (grpc::Status s = stub->GetSnapshot(&ctx, req, &resp); !s.ok()) {
    absl::Status status = base::FromGrpcStatus(s);
    if (absl::IsNotFound(status)) return status;  // the push would fail the same way
    err << "granary push: cannot ask the registry at " << registry.address << " for the schema of "
        << options.push_source << " (" << status.message() << AuthHint(registry, status.code())
        << ")" << fallback;
    return std::nullopt;
  }
  return PushSourceSchema(resp.snapshot().repo(), options.push_source);
}

// The service names bad cells "columns[c] row N", N counted from 0 within the batch.
std::optional<int> RowInMessage(const std::string& message) {
  for (size_t at = message.find("row "); at != std::string::npos;
       at = message.find("row ", at + 1)) {
    if (at > 0 && message[at - 1] != ' ') continue;
    size_t end = at + 4;
    while (end < message.size() && absl::ascii_isdigit(message[end])) ++end;
    int row;
    if (absl::SimpleAtoi(message.substr(at + 4, end - at - 4), &row)) return row;
  }
  return std::nullopt;
}

// Where in the file a failed batch (or the row its message names) is: "line 1005 (batch 2,
// row 3)" or "lines 1002-2001 (batch 2)" for CSV, "[1003] (batch 2, row 3)" for JSON.
std::string Where(const PushTable& table, const BatchFailure& f) {
  const int last = f.first_row + f.rows - 1;
  auto at = [&table](int r) {
    return table.row_lines.empty() ? absl::StrCat("[", r, "]")
                                   : absl::StrCat("line ", table.row_lines[r]);
  };
  std::optional<int> row = RowInMessage(f.message);
  if (row && f.first_row + *row <= last) {
    return absl::StrCat(at(f.first_row + *row), " (batch ", f.index, ", row ", *row, ")");
  }
  std::string range =
      table.row_lines.empty()
          ? absl::StrCat("rows [", f.first_row, "]-[", last, "]")
          : absl::StrCat("lines ", table.row_lines[f.first_row], "-", table.row_lines[last]);
  return absl::StrCat(range, " (batch ", f.index, ")");
}

std::string Plural(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace

absl::StatusOr<PushSchema> PushSourceSchema(const registry::v1::FeatureRepo& repo,
                                            const std::string& push_source) {
  const DataSource* push = FindSource(repo, push_source);
  if (push == nullptr) {
    return absl::NotFoundError(absl::StrCat("project ", repo.project().name(),
                                            " has no push source \"", push_source, "\""));
  }
  if (!push->has_push()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data source \"", push_source, "\" is not a push source"));
  }
  PushSchema schema;
  std::vector<const DataSource*> sources = {push};
  if (const DataSource* batch = FindSource(repo, push->push().batch_source())) {
    sources.push_back(batch);
  }
  for (const DataSource* s : sources) {
    for (const std::string& column : {s->timestamp_field(), s->created_timestamp_column()}) {
      if (!column.empty()) schema.types.emplace(column, ValueType::UNIX_TIMESTAMP);
    }
  }
  for (const auto& view : repo.feature_views()) {
    if (view.stream_source() != push_source) continue;
    schema.feature_views.push_back(view.name());
    for (const auto& field : view.schema()) schema.types.emplace(field.name(), field.dtype());
    for (const std::string& name : view.entities()) {
      for (const auto& e : repo.entities()) {
        if (e.name() == name) {
          schema.types.emplace(e.join_key().empty() ? e.name() : e.join_key(), e.value_type());
        }
      }
    }
  }
  // Columns named differently in the sources than the features they hold.
  for (const DataSource* s : sources) {
    for (const auto& [column, feature] : s->field_mapping()) {
      if (auto it = schema.types.find(feature); it != schema.types.end()) {
        schema.types.emplace(column, it->second);
      }
    }
  }
  return schema;
}

absl::StatusOr<ingestion::v1::PushTarget> ParsePushTarget(absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  ingestion::v1::PushTarget target;
  if (!ingestion::v1::PushTarget_Parse(upper, &target) ||
      target == ingestion::v1::PUSH_TARGET_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("--to: expected online, offline or online_and_offline, got \"", text, "\""));
  }
  return target;
}

std::string BatchIdPrefix(absl::string_view content, const PushOptions& options, bool used_now) {
  // Everything that decides how the file is cut into batches, and what they say.
  std::string header =
      absl::StrCat("granary push v2\n", options.project, "\n", options.push_source, "\n",
                   ingestion::v1::PushTarget_Name(options.to), "\n", options.batch_rows, "\n",
                   options.max_batch_bytes, "\n",
                   used_now ? absl::StrCat(absl::ToUnixSeconds(options.now)) : "", "\n");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, header.data(), header.size());
  EVP_DigestUpdate(ctx, content.data(), content.size());
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), std::min(length, 16u)));
}

int RunPush(const Target& ingestion, const Target& registry, const PushOptions& options,
            CommandIo io) {
  if (options.batch_rows < 1) {
    io.err << "granary push: --batch-rows: at least 1\n";
    return kExitUsage;
  }
  absl::StatusOr<std::optional<PushSchema>> schema = AskRegistry(registry, options, io.err);
  if (!schema.ok()) {
    io.err << "granary push: " << schema.status().message() << " (registry at " << registry.address
           << ")\n";
    return kExitFailure;
  }
  PushFileOptions file_options{.guess = !schema->has_value()};
  if (schema->has_value()) file_options.types = (*schema)->types;
  CellContext cx{.now = options.now};
  std::string content;
  absl::StatusOr<PushTable> table = ReadPushFile(options.file, file_options, cx, &content);
  if (!table.ok()) {
    io.err << "granary push: " << table.status().message() << "\n";
    return kExitFailure;
  }
  StreamOptions stream{.project = options.project,
                       .push_source = options.push_source,
                       .to = options.to,
                       .batch_rows = options.batch_rows,
                       .max_batch_bytes = options.max_batch_bytes,
                       .max_in_flight = options.max_in_flight,
                       .id_prefix = BatchIdPrefix(content, options, cx.used_now),
                       .timeout = absl::Minutes(1) + table->rows * absl::Milliseconds(5)};
  bool drawn = false;
  absl::Time last_draw = absl::InfinitePast();
  if (options.progress) {
    stream.on_progress = [&](int64_t rows, int in_flight) {
      absl::Time now = absl::Now();
      if (now - last_draw < absl::Milliseconds(100) && rows < table->rows) return;
      last_draw = now;
      drawn = true;
      io.err << "\rpushed " << rows << "/" << table->rows << " rows (" << in_flight
             << " batches in flight)" << std::flush;
    };
  }
  const absl::Time start = absl::Now();
  PushReport report;
  if (table->rows > 0) {
    const absl::Time give_up = start + stream.timeout;
    while (true) {
      report = PushBatches(OpenChannel(ingestion), *table, stream);
      // Refused before anything was taken, with a hint of when to come back (ingestion has
      // as many streams open as it allows): open it again then; batch ids are the same, so
      // nothing is stored twice. Any other end (a message too large, say) is reported.
      const std::optional<absl::Duration> hint = base::RetryAfter(report.stream_status);
      const bool refused = absl::IsResourceExhausted(report.stream_status) && hint.has_value() &&
                           report.batches == 0 && report.duplicates == 0 && report.failures.empty();
      const absl::Duration wait =
          std::max(hint.value_or(absl::ZeroDuration()), absl::Milliseconds(100));
      if (!refused || absl::Now() + wait >= give_up) break;
      absl::SleepFor(wait);  // the service's hint, not a wait for an event
      stream.timeout = give_up - absl::Now();
    }
  }
  const int total_batches = report.total_batches;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (drawn) io.err << "\n";

  std::vector<std::string> views(report.feature_views.begin(), report.feature_views.end());
  if (views.empty() && schema->has_value()) views = (*schema)->feature_views;
  nlohmann::json errors = nlohmann::json::array();
  for (const BatchFailure& f : report.failures) {
    std::string where = Where(*table, f);
    std::string code(base::StatusCodeName(f.code));
    io.err << "granary push: " << options.file << " " << where << ": " << f.message << " (" << code
           << ")\n";
    errors.push_back(
        {{"batch_id", f.batch_id}, {"where", where}, {"code", code}, {"message", f.message}});
  }
  const absl::Status& end = report.stream_status;
  if (!end.ok()) {
    io.err << "granary push: " << end.message() << " (" << absl::StatusCodeToString(end.code())
           << ", ingestion at " << ingestion.address << ")" << AuthHint(ingestion, end.code())
           << "\n";
    errors.push_back({{"code", absl::StatusCodeToString(end.code())}, {"message", end.message()}});
  }
  const bool failed = !errors.empty();
  if (io.json) {
    nlohmann::json summary = {{"push_source", options.push_source},
                              {"file", options.file},
                              {"rows", report.rows},
                              {"batches", report.batches},
                              {"total_batches", total_batches},
                              {"duplicate_batches", report.duplicates},
                              {"feature_views", views},
                              {"seconds", seconds},
                              {"batch_id_prefix", stream.id_prefix},
                              {"errors", errors}};
    io.out << summary.dump(2) << "\n";
  } else if (failed) {
    io.err << "granary push: " << Plural(report.batches, "batch", "batches") << " of "
           << total_batches << " stored (" << Plural(report.rows, "row", "rows") << ")\n";
  } else {
    io.out << "pushed " << Plural(report.rows, "row", "rows") << " in "
           << Plural(report.batches, "batch", "batches") << " to "
           << (views.empty() ? "no feature view" : absl::StrJoin(views, ", ")) << " ("
           << Plural(report.duplicates, "duplicate batch", "duplicate batches") << ") in "
           << absl::StrFormat("%.2f", seconds) << " s\n";
  }
  return failed ? kExitFailure : 0;
}

void AddPushCommand(CLI::App& app, int* exit_code) {
  struct State {
    RepoFlags flags;
    PushOptions options;
    std::string to = "online";
    std::string ingestion;
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand(
      "push", "Send feature rows from a CSV or JSON file to a push source, through ingestion");
  cmd->add_option("--push-source", s->options.push_source, "The push source")->required();
  cmd->add_option("--file", s->options.file, "rows.csv or rows.json")->required();
  cmd->add_option("--to", s->to, "online (default), offline or online_and_offline");
  cmd->add_option("--batch-rows", s->options.batch_rows, "Rows per batch (default 1000)");
  cmd->add_option("--batch-bytes", s->options.max_batch_bytes,
                  "Bytes of values per batch at most (default 524288): each feature view's "
                  "share of a batch must fit one NATS message (max_payload, 1 MiB by default)");
  cmd->add_option("--ingestion", s->ingestion,
                  "ingestion, host:port (default: granary.yaml ingestion_endpoint, else through "
                  "the gateway)");
  AddRepoFlags(cmd, s->flags);
  cmd->footer(
      "Files: .csv with a header line of column names (RFC 4180 quoting; an empty cell is\n"
      "null), or .json as columns {\"driver_id\": [1001, 1002], ...} or rows\n"
      "[{\"driver_id\": 1001, ...}, ...]. Columns are typed by the push source's schema in\n"
      "the registry: its timestamp columns, and the join keys and features of the views it\n"
      "feeds.\n"
      "Timestamps: RFC 3339 (2026-11-21T10:00:00Z), \"2026-11-21 10:00:00\" (UTC), unix\n"
      "seconds, or now, now-5m, now-2h, now-30s: the time of the push (so a sample file\n"
      "pushes fresh values).\n"
      "Pushing the same file again stores nothing twice: batch ids derive from the file's\n"
      "hash, and the ingestion service answers repeats as duplicates (files with `now`\n"
      "cells count as new data each time).");
  cmd->callback([cmd, s, exit_code] {
    absl::StatusOr<ingestion::v1::PushTarget> to = ParsePushTarget(s->to);
    if (!to.ok()) return void(*exit_code = Usage("push", to.status().message()));
    // Project, registry and ingestion: flags first, then granary.yaml, then the defaults.
    absl::StatusOr<RepoConfig> defaults = RepoDefaults(s->flags.repo);
    if (!defaults.ok()) return void(*exit_code = Failure("push", defaults.status().message()));
    s->options.project = Either(s->flags.project, defaults->project.name());
    s->options.to = *to;
    s->options.progress = isatty(STDERR_FILENO) != 0;
    absl::StatusOr<Targets> targets = ResolveTargets(
        GlobalFlagsOf(cmd), {.registry = s->flags.registry, .ingestion = s->ingestion}, *defaults);
    if (!targets.ok()) return void(*exit_code = Failure("push", targets.status().message()));
    *exit_code = RunPush(targets->ingestion, targets->registry, s->options,
                         {std::cout, std::cerr, s->flags.json});
  });
}

}  // namespace granary::cli
