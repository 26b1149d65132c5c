#include "libs/transforms/guarded_functions.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "libs/transforms/lua.h"
#include "libs/transforms/lua_sandbox.h"

namespace granary::transforms {
namespace {

// Lua 5.4's sort randomizes its pivots above this many elements (ltablib.c RANLIMIT).
constexpr lua_Integer kMaxSorted = 100;

// A count as instructions to charge: never negative, never past what int64 holds.
int64_t Instructions(double n) {
  if (!(n > 0)) return 0;
  return n >= 1e18 ? int64_t{1'000'000'000'000'000'000} : static_cast<int64_t>(n);
}

lua_Integer LengthOf(lua_State* L, int index) {
  return lua_type(L, index) == LUA_TTABLE ? static_cast<lua_Integer>(lua_rawlen(L, index)) : 0;
}

// What a call of each guarded function costs, from its arguments, before it runs.
int64_t Cost(lua_State* L, int kind) {
  switch (kind) {
    case 0: {  // table.move(a1, f, e, t [, a2]): e - f + 1 moves
      const lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
      return Instructions(static_cast<double>(e) - static_cast<double>(f) + 1);
    }
    case 1:  // table.insert and table.remove shift up to #t elements
      return Instructions(static_cast<double>(LengthOf(L, 1)));
    case 2: {  // table.concat(t [, sep [, i [, j]]]) and table.unpack(t [, i [, j]])
      const int first = lua_tointeger(L, lua_upvalueindex(3));
      const lua_Integer i = luaL_optinteger(L, first, 1);
      const lua_Integer j = luaL_optinteger(L, first + 1, LengthOf(L, 1));
      return Instructions(static_cast<double>(j) - static_cast<double>(i) + 1);
    }
    case 3: {  // table.sort(t [, comp]): refused above kMaxSorted, then n log n comparisons
      const lua_Integer n = LengthOf(L, 1);
      if (n > kMaxSorted) {
        luaL_error(L,
                   "table.sort sorts at most %d elements (larger sorts are randomized and could "
                   "order ties differently between serving and training)",
                   static_cast<int>(kMaxSorted));
      }
      return Instructions(static_cast<double>(n) * 7);
    }
    case 4: {  // string.rep(s, n [, sep]): n copies, and the bytes copied
      size_t s = 0, sep = 0;
      luaL_checklstring(L, 1, &s);
      const lua_Integer n = luaL_checkinteger(L, 2);
      luaL_optlstring(L, 3, "", &sep);
      return Instructions(static_cast<double>(n) * (1 + static_cast<double>(s + sep) / 64));
    }
    default: {  // string.find(s, text [, init]), plain: up to |s| x |text| comparisons
      size_t haystack = 0, needle = 0;
      luaL_checklstring(L, 1, &haystack);
      luaL_checklstring(L, 2, &needle);
      return Instructions((static_cast<double>(haystack) / 16 + 1) * static_cast<double>(needle));
    }
  }
}

// Upvalues: the original function, the kind of cost, and (concat, unpack) where i is.
int Charged(lua_State* L) {
  const int kind = static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)));
  LuaSandbox::Charge(L, Cost(L, kind), /*level=*/1);
  if (kind == 5) {  // find: always plain
    lua_settop(L, 3);
    lua_pushboolean(L, 1);
  }
  const int args = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, args, LUA_MULTRET);
  return lua_gettop(L);
}

void Wrap(lua_State* L, const char* name, int kind, int first_index = 0) {
  lua_getfield(L, -1, name);
  lua_pushinteger(L, kind);
  lua_pushinteger(L, first_index);
  lua_pushcclosure(L, Charged, 3);
  lua_setfield(L, -2, name);
}

bool HasAddress(lua_State* L, int index) {
  const int type = lua_type(L, index);
  return type == LUA_TTABLE || type == LUA_TFUNCTION || type == LUA_TUSERDATA ||
         type == LUA_TTHREAD || type == LUA_TLIGHTUSERDATA;
}

// tostring and string.format without addresses. Upvalues: the original, and whether it is
// string.format (whose %p prints an address too).
int WithoutAddresses(lua_State* L) {
  const int args = lua_gettop(L);
  for (int i = 1; i <= args; ++i) {
    if (HasAddress(L, i)) {
      return luaL_error(L,
                        "cannot turn a %s into text (its text is an address, which differs "
                        "between runs)",
                        luaL_typename(L, i));
    }
  }
  if (lua_toboolean(L, lua_upvalueindex(2)) && lua_type(L, 1) == LUA_TSTRING) {
    size_t size = 0;
    const char* format = lua_tolstring(L, 1, &size);
    for (size_t i = 0; i + 1 < size; ++i) {
      if (format[i] != '%') continue;
      size_t j = i + 1;
      while (j < size && std::strchr("-+ #0123456789.", format[j]) != nullptr) ++j;
      if (j < size && format[j] == 'p')
        return luaL_error(L, "string.format: %%p prints an address");
      i = j;
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, args, LUA_MULTRET);
  return lua_gettop(L);
}

// Sorted-order iteration: booleans, then numbers, then strings. Keys without a stable order
// (tables, functions) are refused.
int KeyRank(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TBOOLEAN:
      return 0;
    case LUA_TNUMBER:
      return 1;
    case LUA_TSTRING:
      return 2;
    default:
      return -1;
  }
}

// The iterator: upvalues t, the sorted keys, the position.
int SortedNext(lua_State* L) {
  lua_Integer at = lua_tointeger(L, lua_upvalueindex(3));
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(2)));
  while (++at <= n) {
    lua_rawgeti(L, lua_upvalueindex(2), at);  // key
    lua_pushvalue(L, -1);
    lua_rawget(L, lua_upvalueindex(1));  // value
    if (!lua_isnil(L, -1)) {             // a key removed while iterating is skipped, as next would
      lua_pushinteger(L, at);
      lua_replace(L, lua_upvalueindex(3));
      return 2;
    }
    lua_pop(L, 2);
  }
  lua_pushinteger(L, at);
  lua_replace(L, lua_upvalueindex(3));
  return 0;
}

int SortedPairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  // Collect the keys, with what orders them.
  struct Key {
    int rank;
    double number;
    lua_Integer integer;
    bool is_integer;
    const char* text;
    size_t size;
    int ref;  // position in the keys table
  };
  lua_newtable(L);  // 2: the keys
  std::vector<Key> keys;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    const int rank = KeyRank(L, -1);
    if (rank < 0) {
      return luaL_error(L,
                        "pairs: a %s key has no stable order (use ipairs, or keys that are "
                        "numbers, strings or booleans)",
                        luaL_typename(L, -1));
    }
    Key key{rank, 0, 0, false, nullptr, 0, static_cast<int>(keys.size()) + 1};
    if (rank == 0) key.integer = lua_toboolean(L, -1);
    if (rank == 1) {
      key.is_integer = lua_isinteger(L, -1);
      key.integer = lua_tointeger(L, -1);
      key.number = lua_tonumber(L, -1);
    }
    if (rank == 2) key.text = lua_tolstring(L, -1, &key.size);  // kept alive by the keys table
    lua_pushvalue(L, -1);
    lua_rawseti(L, 2, key.ref);
    keys.push_back(key);
  }
  LuaSandbox::Charge(L, Instructions(keys.size() * (std::log2(keys.size() + 1.0) + 1)), 1);
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.rank == 0) return a.integer < b.integer;
    if (a.rank == 1) {
      if (a.is_integer && b.is_integer) return a.integer < b.integer;
      return a.number < b.number;
    }
    const int c = std::memcmp(a.text, b.text, std::min(a.size, b.size));
    return c != 0 ? c < 0 : a.size < b.size;
  });
  lua_createtable(L, static_cast<int>(keys.size()), 0);  // 3: the keys, sorted
  for (size_t i = 0; i < keys.size(); ++i) {
    lua_rawgeti(L, 2, keys[i].ref);
    lua_rawseti(L, 3, static_cast<lua_Integer>(i) + 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 3);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, SortedNext, 3);
  lua_pushnil(L);
  lua_pushnil(L);
  return 3;
}

}  // namespace

void GuardLibrary(lua_State* L, const std::string& library) {
  if (library == LUA_GNAME) {
    lua_pushcfunction(L, SortedPairs);
    lua_setfield(L, -2, "pairs");
    lua_getfield(L, -1, "tostring");
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, WithoutAddresses, 2);
    lua_setfield(L, -2, "tostring");
  } else if (library == LUA_TABLIBNAME) {
    Wrap(L, "move", 0);
    Wrap(L, "insert", 1);
    Wrap(L, "remove", 1);
    Wrap(L, "concat", 2, 3);
    Wrap(L, "unpack", 2, 2);
    Wrap(L, "sort", 3);
  } else if (library == LUA_STRLIBNAME) {
    Wrap(L, "rep", 4);
    Wrap(L, "find", 5);
    lua_getfield(L, -1, "format");
    lua_pushboolean(L, 1);
    lua_pushcclosure(L, WithoutAddresses, 2);
    lua_setfield(L, -2, "format");
  }
}

}  // namespace granary::transforms
