// The global names a compiled Lua chunk reads and assigns, found in its bytecode (lua_dump),
// not by parsing the source again: what the interpreter compiled is what is checked. Free names
// in Lua are field accesses on the _ENV upvalue, compiled to GETTABUP (read) and SETTABUP
// (assign) with the name as a constant, in the chunk and in every function nested in it.
//
//   ASSIGN_OR_RETURN(GlobalNames names, GlobalNamesOf(L));  // the function on top of L's stack
//   for (const std::string& name : names.read) ...
#ifndef GRANARY_LIBS_TRANSFORMS_GLOBAL_NAMES_H_
#define GRANARY_LIBS_TRANSFORMS_GLOBAL_NAMES_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct lua_State;

namespace granary::transforms {

struct GlobalNames {
  std::set<std::string> read;
  std::set<std::string> assigned;
  // The chunk uses _ENV other than by a constant name (`_ENV[k]`, a name longer than Lua's
  // short strings): what it reads cannot be known before it runs.
  bool dynamic = false;
};

// Of the Lua function on top of the stack (left there).
absl::StatusOr<GlobalNames> GlobalNamesOf(lua_State* L);

// Of a binary chunk as lua_dump writes it (Lua 5.4, not stripped). INTERNAL for anything else.
absl::StatusOr<GlobalNames> GlobalNamesOfDump(absl::string_view dump);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_GLOBAL_NAMES_H_
