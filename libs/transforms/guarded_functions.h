// Library functions as the sandbox offers them, where Lua's own would be unbounded or
// nondeterministic:
// - work done inside C, where the instruction count never looks, is charged to the evaluation's
//   instruction budget before it is done (table.move, insert, remove, concat, unpack, sort;
//   string.rep; plain string.find, the only find there is);
// - what could differ between two Lua states computing the same row (serving, the writers and
//   historical retrieval each have their own) is made the same or refused: pairs iterates in
//   sorted key order, tostring and string.format refuse tables and functions (their text is an
//   address), table.sort refuses more than 100 elements (above that Lua 5.4 picks pivots at
//   random, which orders ties differently).
#ifndef GRANARY_LIBS_TRANSFORMS_GUARDED_FUNCTIONS_H_
#define GRANARY_LIBS_TRANSFORMS_GUARDED_FUNCTIONS_H_

#include <string>

struct lua_State;

namespace granary::transforms {

// Replaces, in the copy of library `library` (LUA_GNAME for the base functions) on top of the
// stack, the functions it guards by their guarded versions.
void GuardLibrary(lua_State* L, const std::string& library);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_GUARDED_FUNCTIONS_H_
