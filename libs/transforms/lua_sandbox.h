// A Lua 5.4 state that runs untrusted feature expressions: only pure libraries (base functions
// without load, dofile, require, print, collectgarbage, pcall, xpcall or metatables; math
// without random; string without dump or patterns, find plain only; table; utf8), all
// read-only; a bound on the instructions and on the memory of each evaluation (a counting hook
// and a counting allocator; work a library function does in C is charged where it can grow past
// linear); and a fresh environment for each evaluation, so nothing one evaluation does is seen
// by another, list inputs included. Not thread-safe: one per thread.
//
//   LuaSandbox lua;
//   ASSIGN_OR_RETURN(int chunk, lua.Compile("transformed.conv_plus", "conv_rate + val_to_add"));
//   int scope = lua.NewScope({"conv_rate", "val_to_add"});
//   lua.BeginRow(scope);  lua.SetInput("conv_rate", value);  ...
//   absl::StatusOr<types::v1::Value> out = lua.Evaluate(chunk, types::v1::ValueType::DOUBLE);
//   lua.EndRow();
#ifndef GRANARY_LIBS_TRANSFORMS_LUA_SANDBOX_H_
#define GRANARY_LIBS_TRANSFORMS_LUA_SANDBOX_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"

#include "libs/transforms/global_names.h"

struct lua_State;
struct lua_Debug;

namespace granary::transforms {

struct SandboxLimits {
  // Lua VM instructions per evaluation (checked every 1,000).
  int64_t max_instructions = 1'000'000;
  // Bytes an evaluation may allocate in all (what it frees is not given back), so its budget
  // hardly depends on what earlier evaluations left for the collector.
  size_t max_memory_bytes = size_t{4} << 20;
  // A backstop for work inside library functions that no charge foresaw: the instruction limit
  // is what bounds expressions, deterministically; this only stops what it cannot see.
  absl::Duration max_time = absl::Milliseconds(500);
};

class LuaSandbox {
 public:
  explicit LuaSandbox(SandboxLimits limits = {});
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  // Compiles `text` under `name` (errors read "<name>:<line>: <message>"): an expression, or
  // statements that end with `return`. INVALID_ARGUMENT when it does not compile.
  absl::StatusOr<int> Compile(const std::string& name, const std::string& text);
  // What compiled chunk `chunk` reads and assigns as globals (inputs, libraries, or mistakes).
  absl::StatusOr<GlobalNames> NamesOf(int chunk);
  // Whether `name` is a library or function the sandbox offers (math, string, tostring, ...).
  bool IsLibraryName(const std::string& name) const;

  // A scope: the input names some chunks may read. Reading one that has no value gives nil;
  // reading a name that is neither an input nor a library is an error.
  int NewScope(const std::vector<std::string>& inputs);

  // The inputs of one row: BeginRow, SetInput for each present input, Evaluate each chunk,
  // EndRow. A null or unset Value leaves the input nil. A list Value must outlive the row.
  void BeginRow(int scope);
  void SetInput(absl::string_view name, const types::v1::Value& value);
  // Runs `chunk` in a fresh environment over the row's inputs and converts its result to
  // `type` (nil: an unset Value). INVALID_ARGUMENT with the chunk's name and line for a runtime
  // error, an exceeded limit, or a result that is not of the type.
  absl::StatusOr<types::v1::Value> Evaluate(int chunk, types::v1::ValueType::Enum type);
  void EndRow();

  // Evaluations stop at `deadline` too (the caller's, when sooner than the time backstop).
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

  // Bytes the state holds now (for tests and metrics).
  size_t memory_in_use() const { return allocator_.used; }

  // Takes `instructions` from the running evaluation's budget, raising the limit's error (with
  // the position `level` calls up: 1 from a C function the expression called) when it runs
  // out. For C functions whose work the hook cannot see.
  static void Charge(lua_State* L, int64_t instructions, int level);

 private:
  struct Allocator {
    size_t used = 0;
    // Bytes the running evaluation may still allocate; allocation fails (and Lua raises "not
    // enough memory") beyond it.
    size_t budget = SIZE_MAX;
  };
  static void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size);
  static void CountHook(lua_State* L, lua_Debug* ar);
  void OpenLibraries();

  SandboxLimits limits_;
  Allocator allocator_;
  lua_State* L_ = nullptr;
  // Registry references: the compiled chunks, the scopes' metatables, the library names.
  std::vector<int> chunks_;
  std::vector<int> scopes_;
  std::vector<std::string> chunk_names_;
  std::vector<std::optional<std::set<std::string>>> chunk_reads_;  // nullopt: all
  std::set<std::string> library_names_;
  int library_ref_ = 0;
  // Instructions the running evaluation may still execute, and until when it may run.
  int64_t instructions_left_ = INT64_MAX;
  std::chrono::steady_clock::time_point time_limit_ = std::chrono::steady_clock::time_point::max();
  absl::Time deadline_ = absl::InfiniteFuture();
  // The row being filled (a registry reference), 0 outside BeginRow/EndRow.
  int row_ref_ = 0;
  // The row's list inputs, pushed afresh into each evaluation's environment.
  std::vector<std::pair<std::string, const types::v1::Value*>> row_lists_;
};

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_LUA_SANDBOX_H_
