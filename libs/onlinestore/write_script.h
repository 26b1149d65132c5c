// The Lua script behind guarded writes: in one atomic step per call, each row of a feature
// view is written only if its event time is newer than the one stored in "_ts:<view>" (a
// serialized google.protobuf.Timestamp, as Feast writes it, decoded in the script), so that
// concurrent writers and redelivered batches can never move a value backwards.
#ifndef GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_
#define GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_

namespace granary::onlinestore {

// KEYS[i]: the entity key of row i.
// ARGV[1]: the view's timestamp field; ARGV[2]: seconds until a written key expires (0: never);
// ARGV[3]: F, the number of features; ARGV[4 .. 3+F]: their hash fields; then for each row:
// event seconds, event nanos, the serialized Timestamp, and F serialized values (an empty
// string leaves that field as it is). Returns the number of rows written.
inline constexpr char kWriteNewerScript[] = R"lua(
local function varint(s, pos)
  local v, mul = 0, 1
  while true do
    local b = string.byte(s, pos)
    if b == nil then return v, pos end
    v = v + (b % 128) * mul
    pos = pos + 1
    if b < 128 then return v, pos end
    mul = mul * 128
  end
end
-- seconds and nanos of a serialized Timestamp (fields 1 and 2, both varints)
local function stored_time(bytes)
  if not bytes then return nil, nil end
  local sec, nanos, pos = 0, 0, 1
  while pos <= #bytes do
    local tag = string.byte(bytes, pos)
    local v
    v, pos = varint(bytes, pos + 1)
    if tag == 8 then sec = v elseif tag == 16 then nanos = v end
  end
  return sec, nanos
end
local ts_field, ttl, f = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local written, a = 0, 4 + f
for _, key in ipairs(KEYS) do
  local sec, nanos, ts = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2]
  local old_sec, old_nanos = stored_time(redis.call('HGET', key, ts_field))
  if old_sec == nil or sec > old_sec or (sec == old_sec and nanos > old_nanos) then
    local args = {ts_field, ts}
    for j = 1, f do
      local v = ARGV[a + 2 + j]
      if v ~= '' then
        args[#args + 1] = ARGV[3 + j]
        args[#args + 1] = v
      end
    end
    redis.call('HSET', key, unpack(args))
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
    written = written + 1
  end
  a = a + 3 + f
end
return written
)lua";

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_WRITE_SCRIPT_H_
