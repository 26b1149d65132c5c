// An on-demand feature view compiled for evaluation: its inputs resolved against the repo (the
// features of its source feature views, the columns of its request sources), its expressions
// compiled once in a LuaSandbox of its own, and a row evaluated into its outputs, each OK or
// failed alone. Not thread-safe (the sandbox is not): one per thread, built per registry version.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ViewProgram> program, ViewProgram::Compile(repo, view));
//   std::vector<const Value*> row = ...;  // in program->inputs() order; nullptr: missing
//   std::vector<absl::StatusOr<Value>> out;
//   program->Evaluate(row, &out);         // in program->outputs() order
#ifndef GRANARY_LIBS_TRANSFORMS_VIEW_PROGRAM_H_
#define GRANARY_LIBS_TRANSFORMS_VIEW_PROGRAM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "granary/registry/v1/repo.pb.h"
#include "granary/types/v1/value.pb.h"

#include "libs/transforms/lua_sandbox.h"

namespace granary::transforms {

// A value the expressions read.
struct ProgramInput {
  // The name it has in `<source>__<column>`: the projection's alias or the feature view's name
  // (or the request source's), its feature view (empty for a request column), and its feature
  // (or column).
  std::string source;
  std::string view;
  std::string column;
  bool from_request = false;
  types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
  // The names expressions read it by: `<source>__<column>` (the projection's alias, when it has
  // one, stands for the source), and `<column>` when no other input has that column name.
  std::vector<std::string> names;
};

struct ProgramOutput {
  std::string name;
  types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
};

// What makes a view's transformation unusable, at a path inside the view
// ("transformation.expressions.conv_rate_plus_val1") with a message naming the view, feature
// and line where there is one.
struct ProgramProblem {
  std::string path;
  std::string message;
};

class ViewProgram {
 public:
  // INVALID_ARGUMENT listing the problems (see Check) when there are any. Evaluations are
  // bounded by the view's own limits (LimitsOf), the same wherever it runs.
  static absl::StatusOr<std::unique_ptr<ViewProgram>> Compile(
      const registry::v1::FeatureRepo& repo, const registry::v1::OnDemandFeatureView& view);
  // The view's transformation.max_instructions and max_memory_bytes, defaults where 0.
  static SandboxLimits LimitsOf(const registry::v1::OnDemandFeatureView& view);
  // Everything that keeps `view` from compiling: the mode, an output without an expression or
  // an expression without an output, an expression that does not compile, that reads a name
  // that is neither an input nor a library (or a short name two inputs share), or that uses
  // _ENV other than by name. Sources that do not resolve are left to the registry's validation.
  static std::vector<ProgramProblem> Check(const registry::v1::FeatureRepo& repo,
                                           const registry::v1::OnDemandFeatureView& view);

  const std::string& view_name() const { return view_name_; }
  const std::vector<ProgramInput>& inputs() const { return inputs_; }
  const std::vector<ProgramOutput>& outputs() const { return outputs_; }
  // The inputs (indices into inputs()) output `output` reads: a request need only supply, and a
  // read need only fetch, what the outputs it asks for read.
  const std::vector<int>& reads(size_t output) const { return reads_[output]; }

  // One row: `inputs` in inputs() order (nullptr or a null Value: nil); `outputs` becomes one
  // entry per output, INVALID_ARGUMENT (naming the view, feature and line) for an output whose
  // expression failed or returned the wrong type. With `wanted` (one flag per output), only the
  // wanted outputs are evaluated; the others are CANCELLED. An evaluation still running at
  // `deadline` stops there (failed): the caller, past its deadline, answers DEADLINE_EXCEEDED.
  void Evaluate(absl::Span<const types::v1::Value* const> inputs,
                std::vector<absl::StatusOr<types::v1::Value>>* outputs,
                const std::vector<bool>* wanted = nullptr,
                absl::Time deadline = absl::InfiniteFuture());

 private:
  ViewProgram(std::string view_name, SandboxLimits limits)
      : view_name_(std::move(view_name)), sandbox_(limits) {}
  // Builds what it can, adding to `problems` what it cannot.
  static std::unique_ptr<ViewProgram> Build(const registry::v1::FeatureRepo& repo,
                                            const registry::v1::OnDemandFeatureView& view,
                                            SandboxLimits limits,
                                            std::vector<ProgramProblem>* problems);

  std::string view_name_;
  LuaSandbox sandbox_;
  std::vector<ProgramInput> inputs_;
  std::vector<ProgramOutput> outputs_;
  std::vector<int> chunks_;              // per output
  std::vector<std::vector<int>> reads_;  // per output
  int scope_ = 0;
};

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_VIEW_PROGRAM_H_
