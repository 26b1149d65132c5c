#include "libs/transforms/lua_sandbox.h"

#include <chrono>
#include <cstdlib>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "libs/transforms/guarded_functions.h"
#include "libs/transforms/lua.h"
#include "libs/transforms/lua_values.h"

namespace granary::transforms {
namespace {

// The count hook runs every this many instructions.
constexpr int kHookEvery = 1000;
// An evaluation that allocated more than this is followed by a full collection.
constexpr size_t kCollectAfter = size_t{1} << 20;
// What compiling one expression may allocate.
constexpr size_t kCompileMemory = size_t{16} << 20;

// Functions of the base library an expression may call. Left out: load, loadfile, dofile,
// require (code from elsewhere), print (io), collectgarbage, getmetatable and setmetatable
// (finalizers and shared metatables would outlive an evaluation), rawset, and pcall and xpcall
// (they would catch the error that ends an evaluation at its instruction or memory limit, and
// loop on; an expression that fails gives its output INVALID, which is what failing is for).
// next is left out too: its order depends on the state's string hash seed (pairs is offered,
// in key order).
constexpr const char* kBaseFunctions[] = {"assert",   "error",    "ipairs",   "pairs",
                                          "select",   "tonumber", "tostring", "type",
                                          "rawequal", "rawlen",   "rawget"};

// Libraries offered (read-only), with the functions each must not offer.
struct Library {
  const char* name;
  lua_CFunction open;
  std::vector<const char*> removed;
};

bool IsList(const types::v1::Value& value) {
  const int kind = static_cast<int>(value.val_case());
  return kind >= types::v1::Value::kBytesListVal && kind <= types::v1::Value::kUnixTimestampListVal;
}

int RefuseWrite(lua_State* L) { return luaL_error(L, "libraries are read-only"); }

// __index of a scope's globals: a declared input without a value reads as nil; anything else
// is a name the expression should not use.
int UnknownName(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
    lua_pushnil(L);
    return 1;
  }
  const char* name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "unknown name '%s' (neither an input of the view nor a library)", name);
}

// Replaces the table on top of the stack by a read-only view of it.
void MakeReadOnly(lua_State* L) {
  lua_newtable(L);           // proxy
  lua_createtable(L, 0, 3);  // its metatable
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, RefuseWrite);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_remove(L, -2);
}

}  // namespace

LuaSandbox::LuaSandbox(SandboxLimits limits) : limits_(limits) {
  L_ = lua_newstate(&LuaSandbox::Allocate, &allocator_);
  if (L_ == nullptr) std::abort();  // out of memory before anything ran
  *static_cast<LuaSandbox**>(lua_getextraspace(L_)) = this;
  OpenLibraries();
  lua_sethook(L_, &LuaSandbox::CountHook, LUA_MASKCOUNT, kHookEvery);
}

LuaSandbox::~LuaSandbox() { lua_close(L_); }

void* LuaSandbox::Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* a = static_cast<Allocator*>(ud);
  if (ptr == nullptr) old_size = 0;  // then old_size tells the kind of object, not a size
  if (new_size == 0) {
    std::free(ptr);
    a->used -= old_size;
    return nullptr;
  }
  // Growing spends the budget (what is freed is not given back, so the budget does not depend
  // on garbage earlier evaluations left); past it, allocation fails and Lua raises "not enough
  // memory". Shrinking never fails.
  const size_t growth = new_size > old_size ? new_size - old_size : 0;
  if (growth > a->budget) return nullptr;
  void* p = std::realloc(ptr, new_size);
  if (p == nullptr) return nullptr;
  a->budget -= growth;
  a->used = a->used - old_size + new_size;
  return p;
}

// In a hook, level 0 is the Lua function running: the position is in the expression.
void LuaSandbox::CountHook(lua_State* L, lua_Debug*) { Charge(L, kHookEvery, 0); }

void LuaSandbox::Charge(lua_State* L, int64_t instructions, int level) {
  LuaSandbox* self = *static_cast<LuaSandbox**>(lua_getextraspace(L));
  self->instructions_left_ -= instructions;
  // The backstop for work inside C that no charge foresaw (comparing or copying long strings):
  // time, checked at most every 1,000 instructions.
  if (std::chrono::steady_clock::now() > self->time_limit_) {
    luaL_where(L, level);
    lua_pushfstring(L, "time limit of %I ms exceeded",
                    static_cast<lua_Integer>(absl::ToInt64Milliseconds(self->limits_.max_time)));
    lua_concat(L, 2);
    lua_error(L);
  }
  if (self->instructions_left_ < 0) {
    luaL_where(L, level);
    lua_pushfstring(L, "instruction limit of %I exceeded",
                    static_cast<lua_Integer>(self->limits_.max_instructions));
    lua_concat(L, 2);
    lua_error(L);
  }
}

void LuaSandbox::OpenLibraries() {
  const Library libraries[] = {
      {LUA_MATHLIBNAME, luaopen_math, {"random", "randomseed"}},  // the same input, the same output
      // Patterns (match, gmatch, gsub) backtrack in C without bound; find is plain only.
      {LUA_STRLIBNAME, luaopen_string, {"dump", "match", "gmatch", "gsub"}},
      {LUA_TABLIBNAME, luaopen_table, {}},
      {LUA_UTF8LIBNAME, luaopen_utf8, {}},
  };
  luaL_requiref(L_, LUA_GNAME, luaopen_base, 1);
  lua_pop(L_, 1);
  lua_newtable(L_);  // the library table: what every scope's globals start from
  for (const char* f : kBaseFunctions) {
    lua_getglobal(L_, f);
    lua_setfield(L_, -2, f);
    library_names_.insert(f);
  }
  GuardLibrary(L_, LUA_GNAME);  // pairs in key order, tostring without addresses
  for (const Library& lib : libraries) {
    luaL_requiref(L_, lib.name, lib.open, 0);
    lua_newtable(L_);  // a copy without the removed functions
    lua_pushnil(L_);
    while (lua_next(L_, -3) != 0) {
      lua_pushvalue(L_, -2);
      lua_insert(L_, -2);
      lua_rawset(L_, -4);
    }
    for (const char* removed : lib.removed) {
      lua_pushnil(L_);
      lua_setfield(L_, -2, removed);
    }
    GuardLibrary(L_, lib.name);
    lua_remove(L_, -2);
    MakeReadOnly(L_);
    if (lib.name == std::string(LUA_STRLIBNAME)) {
      // ("x"):upper() goes through the string metatable: point it at the copy.
      lua_pushliteral(L_, "");
      lua_getmetatable(L_, -1);
      lua_pushvalue(L_, -3);
      lua_setfield(L_, -2, "__index");
      lua_pop(L_, 2);
    }
    lua_setfield(L_, -2, lib.name);
    library_names_.insert(lib.name);
  }
  library_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  // The global table is never an expression's environment; empty it all the same.
  lua_pushglobaltable(L_);
  lua_pushnil(L_);
  while (lua_next(L_, -2) != 0) {
    lua_pop(L_, 1);
    lua_pushvalue(L_, -1);
    lua_pushnil(L_);
    lua_rawset(L_, -4);
  }
  lua_pop(L_, 1);
}

bool LuaSandbox::IsLibraryName(const std::string& name) const {
  return library_names_.count(name) > 0;
}

absl::StatusOr<int> LuaSandbox::Compile(const std::string& name, const std::string& text) {
  const std::string chunk_name = "=" + name;
  const std::string expression = "return " + text;
  allocator_.budget = kCompileMemory;
  int rc = luaL_loadbufferx(L_, expression.data(), expression.size(), chunk_name.c_str(), "t");
  std::string expression_error;
  if (rc != LUA_OK) {
    expression_error = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    rc = luaL_loadbufferx(L_, text.data(), text.size(), chunk_name.c_str(), "t");
  }
  allocator_.budget = std::numeric_limits<size_t>::max();
  if (rc != LUA_OK) {
    // One line without `return` was meant as an expression: its error says more.
    const bool one_expression =
        !absl::StrContains(text, '\n') && !absl::StrContains(text, "return");
    std::string error = one_expression ? expression_error : lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return absl::InvalidArgumentError(error);
  }
  chunks_.push_back(luaL_ref(L_, LUA_REGISTRYINDEX));
  chunk_names_.push_back(name);
  // The names it reads, for the list inputs an evaluation gets (all of them when it reads
  // _ENV as a value, or its bytecode cannot be read).
  absl::StatusOr<GlobalNames> names = NamesOf(static_cast<int>(chunks_.size()) - 1);
  chunk_reads_.push_back(names.ok() && !names->dynamic
                             ? std::optional<std::set<std::string>>(names->read)
                             : std::nullopt);
  return static_cast<int>(chunks_.size()) - 1;
}

absl::StatusOr<GlobalNames> LuaSandbox::NamesOf(int chunk) {
  lua_rawgeti(L_, LUA_REGISTRYINDEX, chunks_.at(chunk));
  absl::StatusOr<GlobalNames> names = GlobalNamesOf(L_);
  lua_pop(L_, 1);
  return names;
}

int LuaSandbox::NewScope(const std::vector<std::string>& inputs) {
  lua_createtable(L_, 0, 1);  // the rows' metatable: {__index = globals}
  lua_newtable(L_);           // globals: the libraries, then the declared inputs (as nil)
  lua_rawgeti(L_, LUA_REGISTRYINDEX, library_ref_);
  lua_pushnil(L_);
  while (lua_next(L_, -2) != 0) {
    lua_pushvalue(L_, -2);
    lua_insert(L_, -2);
    lua_rawset(L_, -5);
  }
  lua_pop(L_, 1);
  // An input named like a library function (type, next) is the input, nil when missing.
  for (const std::string& input : inputs) {
    lua_pushnil(L_);
    lua_setfield(L_, -2, input.c_str());
  }
  lua_createtable(L_, 0, 1);  // globals' metatable: {__index = UnknownName(declared)}
  lua_createtable(L_, 0, static_cast<int>(inputs.size()));
  for (const std::string& input : inputs) {
    lua_pushboolean(L_, 1);
    lua_setfield(L_, -2, input.c_str());
  }
  lua_pushcclosure(L_, UnknownName, 1);
  lua_setfield(L_, -2, "__index");
  lua_setmetatable(L_, -2);
  lua_setfield(L_, -2, "__index");
  scopes_.push_back(luaL_ref(L_, LUA_REGISTRYINDEX));
  return static_cast<int>(scopes_.size()) - 1;
}

void LuaSandbox::BeginRow(int scope) {
  lua_newtable(L_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, scopes_.at(scope));
  lua_setmetatable(L_, -2);
  row_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
}

void LuaSandbox::SetInput(absl::string_view name, const types::v1::Value& value) {
  if (IsList(value)) {
    // A table an evaluation could change: each evaluation gets its own (see Evaluate).
    row_lists_.emplace_back(name, &value);
    return;
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, row_ref_);
  lua_pushlstring(L_, name.data(), name.size());
  PushValue(L_, value);
  lua_rawset(L_, -3);
  lua_pop(L_, 1);
}

void LuaSandbox::EndRow() {
  luaL_unref(L_, LUA_REGISTRYINDEX, row_ref_);
  row_ref_ = 0;
  row_lists_.clear();
}

absl::StatusOr<types::v1::Value> LuaSandbox::Evaluate(int chunk, types::v1::ValueType::Enum type) {
  const std::string& name = chunk_names_.at(chunk);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, chunks_.at(chunk));
  lua_newtable(L_);           // this evaluation's environment: what it assigns stays here
  lua_createtable(L_, 0, 1);  // {__index = row}
  lua_rawgeti(L_, LUA_REGISTRYINDEX, row_ref_);
  lua_setfield(L_, -2, "__index");
  lua_setmetatable(L_, -2);
  const std::optional<std::set<std::string>>& reads = chunk_reads_.at(chunk);
  for (const auto& [list_name, value] : row_lists_) {
    // A list the expression never reads is not built for it.
    if (reads.has_value() && reads->count(list_name) == 0) continue;
    lua_pushlstring(L_, list_name.data(), list_name.size());
    PushValue(L_, *value);
    lua_rawset(L_, -3);
  }
  lua_setupvalue(L_, -2, 1);  // a main chunk's only upvalue is _ENV
  // Restart the hook's count: every evaluation gets its full budget.
  lua_sethook(L_, &LuaSandbox::CountHook, LUA_MASKCOUNT, kHookEvery);
  instructions_left_ = limits_.max_instructions;
  time_limit_ = std::chrono::steady_clock::now() +
                absl::ToChronoNanoseconds(std::min(limits_.max_time, deadline_ - absl::Now()));
  allocator_.budget = limits_.max_memory_bytes;

  const int rc = lua_pcall(L_, 0, 1, 0);
  const size_t spent =
      limits_.max_memory_bytes - std::min(allocator_.budget, limits_.max_memory_bytes);
  allocator_.budget = std::numeric_limits<size_t>::max();
  // What a costly evaluation left is collected now: a cached program's state holds no more
  // than its compiled chunks between evaluations, however many programs a thread keeps.
  if (spent > kCollectAfter) lua_gc(L_, LUA_GCCOLLECT);
  instructions_left_ = std::numeric_limits<int64_t>::max();
  time_limit_ = std::chrono::steady_clock::time_point::max();
  if (rc != LUA_OK) {
    std::string error = rc == LUA_ERRMEM ? absl::StrCat(name, ": memory limit of ",
                                                        limits_.max_memory_bytes, " bytes exceeded")
                        : lua_type(L_, -1) == LUA_TSTRING
                            ? std::string(lua_tostring(L_, -1))
                            : absl::StrCat(name, ": raised an error that is not a string");
    lua_pop(L_, 1);
    // error("...", 0) carries no position: the view and feature are named all the same.
    if (!absl::StartsWith(error, absl::StrCat(name, ":"))) error = absl::StrCat(name, ": ", error);
    return absl::InvalidArgumentError(error);
  }
  absl::StatusOr<types::v1::Value> value = ToValue(L_, -1, type);
  lua_pop(L_, 1);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", value.status().message()));
  }
  return value;
}

}  // namespace granary::transforms
