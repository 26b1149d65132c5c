// Lua 5.4's C API as Granary uses it: Debian's liblua5.4-c++, the interpreter compiled as C++,
// so that a Lua error unwinds C++ frames with their destructors instead of longjmp-ing over
// them. Its headers are included without extern "C" (lua.hpp would add it and break linking).
#ifndef GRANARY_LIBS_TRANSFORMS_LUA_H_
#define GRANARY_LIBS_TRANSFORMS_LUA_H_

#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#endif  // GRANARY_LIBS_TRANSFORMS_LUA_H_
