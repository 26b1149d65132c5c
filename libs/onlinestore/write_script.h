// The Lua scripts behind the online store's writes, run atomically by Redis.
//
// Guarded writes: each row of a feature view is written only if it is newer than the stored
// one, comparing (event time, created time) the way the point-in-time join does offline: the
// newer event time wins; an equal event time is won by the newer created time. The event time
// is Feast's "_ts:<view>" (a serialized google.protobuf.Timestamp, decoded in the script); the
// created time and the view's incarnation are Granary's "_created:<view>" (an OnlineRowMeta).
// A row stored for an older incarnation of the view (deleted and created again under the same
// name) is always replaced, and never replaces a newer incarnation's. Redis' Lua numbers are
// doubles: every time is compared as seconds and nanos, two integers a double holds exactly,
// and varints of negative seconds (times before 1970) are decoded as the signed 64-bit numbers
// they are.
//
// View removal: the fields of a deleted view are removed from the given keys, but only where
// they belong to the deleted incarnation (a view created again meanwhile keeps its new rows).
#ifndef GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_
#define GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_

#include <string>

namespace granary::onlinestore {

// KEYS[i]: the entity key of row i.
// ARGV[1]: "_ts:<view>"; ARGV[2]: "_created:<view>"; ARGV[3]: seconds until a written key
// expires (0: never); ARGV[4]: the view's incarnation (0: unknown); ARGV[5], ARGV[6]: the guard
// view's "_ts:" and "_created:" fields, empty for rows guarded by their own (ViewWrite::
// guard_view); ARGV[7]: the guard view's incarnation; ARGV[8]: F, the number of features;
// ARGV[9 .. 8+F]: their hash fields; then for each row: event seconds, event nanos,
// created seconds, created nanos (normalized: 0 <= nanos < 1e9), the serialized Timestamp,
// the serialized OnlineRowMeta, and F serialized values (an empty string leaves that field as
// it is).
// Returns {rows written, then the (1-based) indices of rows whose key holds another type than
// a hash: those alone are not written}.
const std::string& WriteNewerScript();

// KEYS: entity keys of the view's project.
// ARGV[1]: "_ts:<view>"; ARGV[2]: "_created:<view>"; ARGV[3]: the incarnation removed;
// ARGV[4..]: the view's feature fields.
// Returns the number of keys that held the view's fields.
const std::string& RemoveViewScript();

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_
