#include "libs/transforms/view_program.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace granary::transforms {
namespace {

using registry::v1::FeatureRepo;
using registry::v1::OnDemandFeatureView;

// The bounds of a view's limits.
constexpr int64_t kMaxInstructions = 10'000'000;
constexpr int64_t kMinMemory = int64_t{64} << 10, kMaxMemory = int64_t{64} << 20;

// The inputs of `view`'s sources; a source that does not resolve contributes nothing (the
// registry's validation names it) and sets *unresolved.
std::vector<ProgramInput> ResolveInputs(const FeatureRepo& repo, const OnDemandFeatureView& view,
                                        bool* unresolved) {
  std::vector<ProgramInput> inputs;
  for (const auto& source : view.sources()) {
    if (source.has_feature_view()) {
      const auto& projection = source.feature_view();
      bool found = false;
      for (const auto& fv : repo.feature_views()) {
        if (fv.name() != projection.feature_view()) continue;
        found = true;
        const std::set<std::string> selected(projection.features().begin(),
                                             projection.features().end());
        for (const auto& field : fv.schema()) {
          if (!selected.empty() && selected.count(field.name()) == 0) continue;
          inputs.push_back({.source = projection.alias().empty() ? fv.name() : projection.alias(),
                            .view = fv.name(),
                            .column = field.name(),
                            .type = field.dtype()});
        }
      }
      if (!found) *unresolved = true;
    } else if (!source.request_source().empty()) {
      bool found = false;
      for (const auto& ds : repo.data_sources()) {
        if (ds.name() != source.request_source() || !ds.has_request()) continue;
        found = true;
        for (const auto& field : ds.request().schema()) {
          inputs.push_back({.source = ds.name(),
                            .column = field.name(),
                            .from_request = true,
                            .type = field.dtype()});
        }
      }
      if (!found) *unresolved = true;
    }
  }
  std::map<std::string, int> uses;
  for (const ProgramInput& input : inputs) ++uses[input.column];
  for (ProgramInput& input : inputs) {
    input.names.push_back(absl::StrCat(input.source, "__", input.column));
    if (uses[input.column] == 1) input.names.push_back(input.column);
  }
  return inputs;
}

}  // namespace

std::unique_ptr<ViewProgram> ViewProgram::Build(const FeatureRepo& repo,
                                                const OnDemandFeatureView& view,
                                                SandboxLimits limits,
                                                std::vector<ProgramProblem>* problems) {
  std::unique_ptr<ViewProgram> program(new ViewProgram(view.name(), limits));
  const auto& transformation = view.transformation();
  if (!transformation.mode().empty() && transformation.mode() != "expression") {
    problems->push_back({"transformation.mode", absl::StrCat("\"", transformation.mode(),
                                                             "\" is not a transformation mode "
                                                             "(expression)")});
  }
  if (!transformation.text().empty()) {
    problems->push_back({"transformation.text",
                         "not used: give one expression per output feature under "
                         "transformation.expressions"});
  }
  bool unresolved = false;
  program->inputs_ = ResolveInputs(repo, view, &unresolved);
  std::map<std::string, int> input_of;  // name -> index into inputs_
  for (size_t i = 0; i < program->inputs_.size(); ++i) {
    for (const std::string& name : program->inputs_[i].names) {
      input_of[name] = static_cast<int>(i);
    }
  }
  std::set<std::string> names, ambiguous;
  std::map<std::string, std::vector<std::string>> full_names_of;
  std::vector<std::string> scope_names;
  for (const ProgramInput& input : program->inputs_) {
    for (const std::string& name : input.names) {
      names.insert(name);
      scope_names.push_back(name);
    }
    full_names_of[input.column].push_back(input.names[0]);
    if (input.names.size() == 1) ambiguous.insert(input.column);
  }
  program->scope_ = program->sandbox_.NewScope(scope_names);

  std::set<std::string> outputs;
  for (const auto& field : view.schema()) {
    outputs.insert(field.name());
    const std::string path = absl::StrCat("transformation.expressions.", field.name());
    auto it = transformation.expressions().find(field.name());
    if (it == transformation.expressions().end() || it->second.empty()) {
      problems->push_back({"transformation.expressions",
                           absl::StrCat("no expression for output feature ", field.name())});
      continue;
    }
    absl::StatusOr<int> chunk =
        program->sandbox_.Compile(absl::StrCat(view.name(), ".", field.name()), it->second);
    if (!chunk.ok()) {
      problems->push_back({path, std::string(chunk.status().message())});
      continue;
    }
    absl::StatusOr<GlobalNames> used = program->sandbox_.NamesOf(*chunk);
    if (!used.ok()) {
      problems->push_back({path, std::string(used.status().message())});
      continue;
    }
    std::vector<int> reads;
    for (const std::string& name : used->read) {
      if (auto it = input_of.find(name); it != input_of.end()) reads.push_back(it->second);
    }
    if (used->dynamic) {
      reads.clear();
      for (size_t i = 0; i < program->inputs_.size(); ++i) reads.push_back(static_cast<int>(i));
    }
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    std::vector<std::string> unknown;
    for (const std::string& name : used->read) {
      if (names.count(name) > 0 || program->sandbox_.IsLibraryName(name)) continue;
      if (used->assigned.count(name) > 0) continue;  // a variable of its own
      if (ambiguous.count(name) > 0) {
        problems->push_back(
            {path, absl::StrCat(view.name(), ".", field.name(), ": ", name,
                                " is ambiguous (two sources have it): read it as one of ",
                                absl::StrJoin(full_names_of[name], ", "))});
        continue;
      }
      unknown.push_back(name);
    }
    // A source that does not resolve is named by the registry's validation; what the
    // expressions read from it would only repeat that.
    if (!unknown.empty() && !unresolved) {
      std::vector<std::string> inputs;
      for (const ProgramInput& input : program->inputs_) inputs.push_back(input.names.back());
      problems->push_back(
          {path,
           absl::StrCat(view.name(), ".", field.name(), ": reads ", absl::StrJoin(unknown, ", "),
                        ", neither an input of its sources (",
                        inputs.empty() ? "none" : absl::StrJoin(inputs, ", "), ") nor a library")});
    }
    if (used->dynamic) {
      problems->push_back({path, absl::StrCat(view.name(), ".", field.name(),
                                              ": reads _ENV other than by name, which cannot be "
                                              "checked")});
    }
    program->outputs_.push_back({field.name(), field.dtype()});
    program->chunks_.push_back(*chunk);
    program->reads_.push_back(std::move(reads));
  }
  for (const auto& [name, text] : transformation.expressions()) {
    if (outputs.count(name) == 0) {
      problems->push_back({absl::StrCat("transformation.expressions.", name),
                           absl::StrCat(name, " is not a feature of the view's schema")});
    }
  }
  return program;
}

std::vector<ProgramProblem> ViewProgram::Check(const FeatureRepo& repo,
                                               const OnDemandFeatureView& view) {
  std::vector<ProgramProblem> problems;
  Build(repo, view, LimitsOf(view), &problems);
  const auto& t = view.transformation();
  // Bounded so that the instruction count, rather than the time backstop or the host's memory,
  // stops an evaluation (work in C that no charge foresees can still reach the backstop).
  if (t.max_instructions() < 0 || t.max_instructions() > kMaxInstructions) {
    problems.push_back({"transformation.max_instructions",
                        absl::StrCat(t.max_instructions(), " is not in [0, 10000000]")});
  }
  if (t.max_memory_bytes() != 0 &&
      (t.max_memory_bytes() < kMinMemory || t.max_memory_bytes() > kMaxMemory)) {
    problems.push_back({"transformation.max_memory_bytes",
                        absl::StrCat(t.max_memory_bytes(), " is not 0 or in [64 KiB, 64 MiB]")});
  }
  return problems;
}

SandboxLimits ViewProgram::LimitsOf(const OnDemandFeatureView& view) {
  SandboxLimits limits;
  // Within the bounds Check enforces at apply, whatever a catalog holds.
  if (view.transformation().max_instructions() > 0) {
    limits.max_instructions =
        std::min<int64_t>(view.transformation().max_instructions(), kMaxInstructions);
  }
  if (view.transformation().max_memory_bytes() > 0) {
    limits.max_memory_bytes = static_cast<size_t>(
        std::clamp<int64_t>(view.transformation().max_memory_bytes(), kMinMemory, kMaxMemory));
  }
  return limits;
}

absl::StatusOr<std::unique_ptr<ViewProgram>> ViewProgram::Compile(const FeatureRepo& repo,
                                                                  const OnDemandFeatureView& view) {
  std::vector<ProgramProblem> problems;
  std::unique_ptr<ViewProgram> program = Build(repo, view, LimitsOf(view), &problems);
  if (!problems.empty()) {
    std::vector<std::string> lines;
    for (const ProgramProblem& p : problems) lines.push_back(absl::StrCat(p.path, ": ", p.message));
    return absl::InvalidArgumentError(
        absl::StrCat("on-demand feature view ", view.name(), ": ", absl::StrJoin(lines, "; ")));
  }
  return program;
}

void ViewProgram::Evaluate(absl::Span<const types::v1::Value* const> inputs,
                           std::vector<absl::StatusOr<types::v1::Value>>* outputs,
                           const std::vector<bool>* wanted, absl::Time deadline) {
  sandbox_.set_deadline(deadline);
  sandbox_.BeginRow(scope_);
  for (size_t i = 0; i < inputs_.size() && i < inputs.size(); ++i) {
    const types::v1::Value* value = inputs[i];
    if (value == nullptr || value->val_case() == types::v1::Value::VAL_NOT_SET ||
        value->has_null_val()) {
      continue;
    }
    for (const std::string& name : inputs_[i].names) sandbox_.SetInput(name, *value);
  }
  outputs->clear();
  outputs->reserve(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o) {
    if (wanted != nullptr && o < wanted->size() && !(*wanted)[o]) {
      outputs->push_back(absl::CancelledError("not asked for"));
      continue;
    }
    outputs->push_back(sandbox_.Evaluate(chunks_[o], outputs_[o].type));
  }
  sandbox_.EndRow();
}

}  // namespace granary::transforms
