#include "tools/cli/historical_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/feast_json/value_json.h"
#include "tools/cli/command.h"
#include "tools/cli/entity_types.h"
#include "tools/cli/push_file.h"
#include "tools/cli/repo_loader.h"
#include "tools/cli/time_text.h"

namespace granary::cli {
namespace {

namespace v1 = materialization::v1;
using types::v1::Value;
using types::v1::ValueType;

std::string Quoted(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<v1::EntityTable> EntityTableFromCsv(
    absl::string_view text, const std::string& timestamp_column, absl::Time now,
    const std::map<std::string, ValueType::Enum>& join_key_types) {
  CellContext cx{.now = now};
  // Join keys as their entities declare them; the times are read here, to the microsecond; the
  // rest typed by their values.
  PushFileOptions options{.types = join_key_types, .guess = true};
  options.types[timestamp_column] = ValueType::STRING;
  ASSIGN_OR_RETURN(PushTable table, ParseCsv(text, options, cx));
  v1::EntityTable out;
  bool has_times = false;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const std::string& name = table.columns[c];
    if (name != timestamp_column) {
      out.add_column_order(name);
      (*out.mutable_columns())[name] = table.values[c];
      continue;
    }
    has_times = true;
    for (int r = 0; r < table.rows; ++r) {
      const Value& cell = table.values[c].val(r);
      const std::string where = absl::StrCat("line ", table.row_lines[r], ", column ", name);
      if (!cell.has_string_val()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": a time is required"));
      }
      absl::StatusOr<absl::Time> t = ParseTimeText(cell.string_val(), now);
      if (!t.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", t.status().message()));
      }
      *out.add_event_timestamps() = base::ToProtoTime(*t);
    }
  }
  if (!has_times) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no column ", timestamp_column, " (the rows' times; --timestamp-column names another)"));
  }
  return out;
}

std::string CsvCell(const Value& value) {
  switch (value.val_case()) {
    case Value::kNullVal:
    case Value::VAL_NOT_SET:
      return "";
    case Value::kStringVal:
      return Quoted(value.string_val());
    case Value::kUnixTimestampVal:
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                              absl::FromUnixSeconds(value.unix_timestamp_val()),
                              absl::UTCTimeZone());
    default:
      return Quoted(feast_json::ValueJson(value));
  }
}

void AddHistoricalCommand(CLI::App& app, int* exit_code) {
  struct Flags {
    std::string repo = ".";
    std::string project;
    std::string materializer;
    std::string registry;
    std::string entities;
    std::string features;
    std::string feature_service;
    std::string out;
    std::string timestamp_column = "event_timestamp";
    bool full_feature_names = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "get-historical-features",
      "A point-in-time-correct training set: entity rows from CSV in, features joined, CSV out");
  cmd->add_option("--entities", flags->entities,
                  "CSV of entity rows: join keys, the rows' times, any other columns (passed "
                  "through)")
      ->required();
  cmd->add_option("--features", flags->features, "view:feature references, comma-separated");
  cmd->add_option("--feature-service", flags->feature_service, "A feature service's features");
  cmd->add_option("--out", flags->out, "Where the training set goes (CSV); - for stdout")
      ->required();
  cmd->add_option("--timestamp-column", flags->timestamp_column,
                  "The entity rows' time column (default event_timestamp)");
  cmd->add_flag("--full-feature-names", flags->full_feature_names,
                "Name features <view>__<feature>");
  cmd->add_option("--repo,-r", flags->repo, "The feature repository folder (default: .)");
  cmd->add_option("--project,-p", flags->project, "The project (default: granary.yaml)");
  cmd->add_option("--materializer", flags->materializer,
                  "The materializer, host:port (default: granary.yaml materializer_endpoint, "
                  "else through the gateway)");
  cmd->add_option("--endpoint", flags->registry,
                  "The registry, asked for the join keys' types (default: through the gateway)");
  cmd->callback([cmd, flags, exit_code] {
    const char* verb = "granary get-historical-features: ";
    if (flags->features.empty() == flags->feature_service.empty()) {
      std::cerr << verb << "give --features or --feature-service (one of them)\n";
      return void(*exit_code = kExitUsage);
    }
    absl::StatusOr<RepoConfig> defaults = RepoDefaults(flags->repo);
    if (!defaults.ok()) {
      std::cerr << verb << defaults.status().message() << "\n";
      return void(*exit_code = kExitFailure);
    }
    absl::StatusOr<Targets> targets = ResolveTargets(
        GlobalFlagsOf(cmd), {.registry = flags->registry, .materializer = flags->materializer},
        *defaults);
    if (!targets.ok()) {
      std::cerr << verb << targets.status().message() << "\n";
      return void(*exit_code = kExitFailure);
    }
    const Target& materializer = targets->materializer;

    std::ifstream in(flags->entities, std::ios::binary);
    if (!in) {
      std::cerr << verb << "cannot read " << flags->entities << "\n";
      return void(*exit_code = kExitFailure);
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    v1::GetHistoricalFeaturesRequest request;
    request.set_project(Either(flags->project, defaults->project.name()));
    absl::StatusOr<v1::EntityTable> table = EntityTableFromCsv(
        text, flags->timestamp_column, absl::Now(),
        EntityTypes(targets->registry, request.project(), "get-historical-features", std::cerr));
    if (!table.ok()) {
      std::cerr << verb << flags->entities << ": " << table.status().message() << "\n";
      return void(*exit_code = kExitFailure);
    }
    *request.mutable_entity_table() = std::move(*table);
    request.set_full_feature_names(flags->full_feature_names);
    if (!flags->feature_service.empty()) {
      request.set_feature_service(flags->feature_service);
    } else {
      for (absl::string_view ref : absl::StrSplit(flags->features, ',', absl::SkipWhitespace())) {
        request.mutable_features()->add_val(std::string(absl::StripAsciiWhitespace(ref)));
      }
    }

    // A file is written beside its name and renamed into place once complete: a failed run
    // never leaves a training set that looks whole.
    const bool to_stdout = flags->out == "-";
    const std::string partial = flags->out + ".partial";
    std::ofstream file;
    if (!to_stdout) {
      file.open(partial, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << verb << "cannot write " << partial << "\n";
        return void(*exit_code = kExitFailure);
      }
    }
    std::ostream& out = to_stdout ? std::cout : file;
    const bool live = isatty(STDERR_FILENO) != 0;
    const absl::Time started = absl::Now();
    grpc::ClientContext context;
    auto reader = v1::MaterializationService::NewStub(OpenChannel(materializer))
                      ->GetHistoricalFeatures(&context, request);
    v1::GetHistoricalFeaturesResponse part;
    int64_t rows = 0;
    int columns = 0;
    std::string line;
    while (reader->Read(&part)) {
      if (part.has_header()) {
        columns = part.header().columns_size();
        line.clear();
        for (int c = 0; c < columns; ++c) {
          if (c > 0) line += ',';
          line += Quoted(part.header().columns(c).name());
        }
        out << line << "\n";
        continue;
      }
      for (const v1::Row& row : part.batch().rows()) {
        line.clear();
        for (int c = 0; c < row.values_size(); ++c) {
          if (c > 0) line += ',';
          line += CsvCell(row.values(c));
        }
        out << line << "\n";
      }
      rows += part.batch().rows_size();
      if (live) {
        std::cerr << "\r\033[K" << rows << " of " << request.entity_table().event_timestamps_size()
                  << " rows" << std::flush;
      }
    }
    if (live) std::cerr << "\n";
    grpc::Status status = reader->Finish();
    out.flush();
    if (!status.ok() || !out) {
      if (!to_stdout) std::remove(partial.c_str());
      std::cerr << verb
                << (status.ok() ? "could not write the training set"
                                : absl::StrCat(status.error_message(), " (",
                                               base::StatusCodeName(status.error_code()),
                                               ", materializer at ", materializer.address, ")",
                                               AuthHint(materializer, static_cast<absl::StatusCode>(
                                                                          status.error_code()))))
                << "\n";
      return void(*exit_code = kExitFailure);
    }
    if (!to_stdout) {
      file.close();
      if (std::rename(partial.c_str(), flags->out.c_str()) != 0) {
        std::cerr << verb << "cannot rename " << partial << " to " << flags->out << "\n";
        return void(*exit_code = kExitFailure);
      }
    }
    std::cerr << "wrote " << rows << " rows x " << columns << " columns"
              << (to_stdout ? "" : " to " + flags->out) << " in "
              << absl::FormatDuration(absl::Trunc(absl::Now() - started, absl::Milliseconds(1)))
              << "\n";
    *exit_code = 0;
  });
}

}  // namespace granary::cli
