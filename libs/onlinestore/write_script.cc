#include "libs/onlinestore/write_script.h"

#include "absl/strings/str_cat.h"

namespace granary::onlinestore {
namespace {

// Decoders shared by both scripts.
constexpr char kDecoders[] = R"lua(
local byte = string.byte
-- A negative varint: 10 bytes of 64-bit two's complement. Its complement, made of the
-- complemented 7-bit groups (bit 63 is the sign), is small: v = -(complement) - 1.
local function negative_varint(s, pos)
  local v, mul = 0, 1
  for i = 0, 8 do
    v = v + (127 - byte(s, pos + i) % 128) * mul
    mul = mul * 128
  end
  return -v - 1, pos + 10
end
-- A varint as a signed 64-bit integer; exact for magnitudes below 2^53, which covers every
-- time a Timestamp holds. Returns nil when the bytes end inside the varint. No table is made:
-- this runs for every stored row a write compares against.
local function varint(s, pos)
  local start, v, mul = pos, 0, 1
  for n = 1, 10 do
    local b = byte(s, pos)
    if b == nil then return nil, pos end
    pos = pos + 1
    if b < 128 then
      if n == 10 then return negative_varint(s, start) end
      return v + b * mul, pos
    end
    v = v + (b - 128) * mul
    mul = mul * 128
  end
  return nil, pos
end
-- Fields 1, 2 and 3 of a message whose fields are all varints with one-byte keys (Timestamp,
-- OnlineRowMeta), as three values (0 when absent); nil when the bytes are not such a message.
-- Three values rather than a table: this runs for every stored row a write compares against.
local function three_varints(bytes)
  local a, b, c, pos, n = 0, 0, 0, 1, #bytes
  while pos <= n do
    local key = byte(bytes, pos)
    if key >= 128 or key % 8 ~= 0 then return nil end
    local v
    v, pos = varint(bytes, pos + 1)
    if v == nil then return nil end
    if key == 8 then a = v elseif key == 16 then b = v elseif key == 24 then c = v end
  end
  return a, b, c
end
)lua";

constexpr char kWriteNewer[] = R"lua(
-- Whether the row (sec, nanos; csec, cnanos; version) replaces what is stored.
local function newer(sec, nanos, csec, cnanos, version, stored_ts, stored_meta)
  if not stored_ts then return true end
  local old_sec, old_nanos = three_varints(stored_ts)
  if old_sec == nil then return true end  -- unreadable: replace it
  local old_csec, old_cnanos, old_version
  if stored_meta then old_csec, old_cnanos, old_version = three_varints(stored_meta) end
  if old_csec == nil then old_cnanos, old_version = 0, 0 end  -- no (readable) created time
  if version > 0 and old_version > 0 and old_version ~= version then
    return old_version < version
  end
  if sec ~= old_sec then return sec > old_sec end
  if nanos ~= old_nanos then return nanos > old_nanos end
  -- Same event time. A stored row without a created time (written by Feast) is the oldest.
  if old_csec == nil then return true end
  if csec ~= old_csec then return csec > old_csec end
  return cnanos > old_cnanos
end

-- Whether the row is the stored one: the same times, and the same incarnation where both are
-- known (0: unknown, as newer() takes it).
local function same(sec, nanos, csec, cnanos, version, stored_ts, stored_meta)
  if not stored_ts or not stored_meta then return false end
  local old_sec, old_nanos = three_varints(stored_ts)
  local old_csec, old_cnanos, old_version = three_varints(stored_meta)
  if old_sec == nil or old_csec == nil then return false end
  return old_sec == sec and old_nanos == nanos and old_csec == csec and old_cnanos == cnanos and
         (old_version == version or old_version == 0 or version == 0)
end

-- Whether a stored meta is of a newer incarnation than `version` (both known).
local function newer_incarnation(version, stored_meta)
  if not stored_meta or version == 0 then return false end
  local _, _, old_version = three_varints(stored_meta)
  return old_version ~= nil and old_version > version
end

local ts_field, created_field = ARGV[1], ARGV[2]
local ttl, version = tonumber(ARGV[3]), tonumber(ARGV[4])
-- Rows derived from another view's (write-time on-demand outputs) are guarded by that view's
-- stored row: written when the row is that row, or newer. Empty: guarded by their own.
local guard_ts, guard_created, guard_version = ARGV[5], ARGV[6], tonumber(ARGV[7])
local f = tonumber(ARGV[8])
local written, refused, a = 0, {}, 9 + f
for i, key in ipairs(KEYS) do
  local sec, nanos = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local csec, cnanos = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local stored
  if guard_ts == '' then
    stored = redis.pcall('HMGET', key, ts_field, created_field)
  else
    stored = redis.pcall('HMGET', key, guard_ts, guard_created, created_field)
  end
  local write = false
  if type(stored) == 'table' and stored.err then
    refused[#refused + 1] = i  -- the key holds another type: this row alone cannot be written
  elseif guard_ts == '' then
    write = newer(sec, nanos, csec, cnanos, version, stored[1], stored[2])
  else
    -- Never over a newer incarnation's own outputs (a writer from before the view changed).
    write = not newer_incarnation(version, stored[3]) and
            (newer(sec, nanos, csec, cnanos, guard_version, stored[1], stored[2]) or
             same(sec, nanos, csec, cnanos, guard_version, stored[1], stored[2]))
  end
  if write then
    local args = {ts_field, ARGV[a + 4], created_field, ARGV[a + 5]}
    for j = 1, f do
      local v = ARGV[a + 5 + j]
      if v ~= '' then
        args[#args + 1] = ARGV[8 + j]
        args[#args + 1] = v
      end
    end
    redis.call('HSET', key, unpack(args))
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
    written = written + 1
  end
  a = a + 6 + f
end
local out = {written}
for _, i in ipairs(refused) do out[#out + 1] = i end
return out
)lua";

constexpr char kRemoveView[] = R"lua(
local ts_field, created_field, version = ARGV[1], ARGV[2], tonumber(ARGV[3])
local fields = {ts_field, created_field}
for j = 4, #ARGV do fields[#fields + 1] = ARGV[j] end
local removed = 0
for _, key in ipairs(KEYS) do
  local meta = redis.pcall('HGET', key, created_field)
  if not (type(meta) == 'table' and meta.err) then
    local stored_version = 0
    if meta then
      local _, _, v = three_varints(meta)
      stored_version = v or 0
    end
    if stored_version == 0 or stored_version == version then
      if redis.call('HDEL', key, unpack(fields)) > 0 then removed = removed + 1 end
    end
  end
end
return removed
)lua";

}  // namespace

const std::string& WriteNewerScript() {
  static const std::string* const kScript = new std::string(absl::StrCat(kDecoders, kWriteNewer));
  return *kScript;
}

const std::string& RemoveViewScript() {
  static const std::string* const kScript = new std::string(absl::StrCat(kDecoders, kRemoveView));
  return *kScript;
}

}  // namespace granary::onlinestore
