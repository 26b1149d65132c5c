#include "libs/transforms/global_names.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"
#include "libs/transforms/lua.h"

namespace granary::transforms {
namespace {

// Lua 5.4's binary chunk format (ldump.c) and opcodes (lopcodes.h) that matter here.
constexpr char kSignature[] = "\x1bLua";
constexpr uint8_t kVersion = 0x54;
constexpr size_t kHeaderSize = 4 + 1 + 1 + 6 + 3 + 8 + 8;
constexpr uint8_t kConstNumInt = 0x03, kConstNumFloat = 0x13;
constexpr uint8_t kConstShortString = 0x04, kConstLongString = 0x14;
constexpr uint32_t kOpGetUpval = 9, kOpSetUpval = 10, kOpGetTabUp = 11, kOpSetTabUp = 15;

class DumpReader {
 public:
  explicit DumpReader(absl::string_view data) : data_(data) {}

  absl::StatusOr<uint8_t> Byte() {
    if (pos_ >= data_.size()) return Truncated();
    return static_cast<uint8_t>(data_[pos_++]);
  }
  // ldump.c's dumpSize: 7 bits per byte, most significant first, the last byte marked 0x80.
  absl::StatusOr<uint64_t> Size() {
    uint64_t x = 0;
    for (int i = 0; i < 10; ++i) {
      ASSIGN_OR_RETURN(uint8_t b, Byte());
      x = (x << 7) | (b & 0x7f);
      if (b & 0x80) return x;
    }
    return absl::InternalError("Lua bytecode: malformed size");
  }
  absl::StatusOr<absl::string_view> Bytes(uint64_t n) {
    if (n > data_.size() - pos_) return Truncated();
    absl::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A string, or nullopt-like empty with `present` false for NULL.
  absl::StatusOr<std::string> String(bool* present = nullptr) {
    ASSIGN_OR_RETURN(uint64_t size, Size());
    if (present != nullptr) *present = size != 0;
    if (size == 0) return std::string();
    ASSIGN_OR_RETURN(absl::string_view s, Bytes(size - 1));
    return std::string(s);
  }

 private:
  static absl::Status Truncated() { return absl::InternalError("Lua bytecode: truncated"); }

  absl::string_view data_;
  size_t pos_ = 0;
};

struct Constant {
  bool is_string = false;
  std::string text;
};

absl::Status ReadFunction(DumpReader& r, GlobalNames& names) {
  RETURN_IF_ERROR(r.String().status());  // source
  RETURN_IF_ERROR(r.Size().status());    // linedefined
  RETURN_IF_ERROR(r.Size().status());    // lastlinedefined
  RETURN_IF_ERROR(r.Bytes(3).status());  // numparams, is_vararg, maxstacksize
  ASSIGN_OR_RETURN(uint64_t code_size, r.Size());
  ASSIGN_OR_RETURN(absl::string_view code_bytes, r.Bytes(code_size * 4));
  ASSIGN_OR_RETURN(uint64_t constant_count, r.Size());
  std::vector<Constant> constants(constant_count);
  for (Constant& k : constants) {
    ASSIGN_OR_RETURN(uint8_t tag, r.Byte());
    if (tag == kConstNumInt || tag == kConstNumFloat) {
      RETURN_IF_ERROR(r.Bytes(8).status());
    } else if (tag == kConstShortString || tag == kConstLongString) {
      k.is_string = true;
      ASSIGN_OR_RETURN(k.text, r.String());
    }  // nil, false, true: the tag alone
  }
  ASSIGN_OR_RETURN(uint64_t upvalue_count, r.Size());
  RETURN_IF_ERROR(r.Bytes(upvalue_count * 3).status());  // instack, idx, kind
  ASSIGN_OR_RETURN(uint64_t proto_count, r.Size());
  for (uint64_t i = 0; i < proto_count; ++i) RETURN_IF_ERROR(ReadFunction(r, names));
  // Debug information: line info, absolute line info, locals, then upvalue names.
  ASSIGN_OR_RETURN(uint64_t line_count, r.Size());
  RETURN_IF_ERROR(r.Bytes(line_count).status());
  ASSIGN_OR_RETURN(uint64_t abs_count, r.Size());
  for (uint64_t i = 0; i < abs_count * 2; ++i) RETURN_IF_ERROR(r.Size().status());
  ASSIGN_OR_RETURN(uint64_t local_count, r.Size());
  for (uint64_t i = 0; i < local_count; ++i) {
    RETURN_IF_ERROR(r.String().status());
    RETURN_IF_ERROR(r.Size().status());
    RETURN_IF_ERROR(r.Size().status());
  }
  ASSIGN_OR_RETURN(uint64_t upvalue_name_count, r.Size());
  if (upvalue_name_count != upvalue_count) {
    return absl::InternalError("Lua bytecode: stripped of debug information");
  }
  std::vector<bool> is_env(upvalue_count, false);
  for (uint64_t i = 0; i < upvalue_count; ++i) {
    ASSIGN_OR_RETURN(std::string name, r.String());
    is_env[i] = name == "_ENV";
  }
  auto env = [&](uint32_t index) { return index < is_env.size() && is_env[index]; };
  auto name = [&](uint32_t index) -> const Constant* {
    return index < constants.size() && constants[index].is_string ? &constants[index] : nullptr;
  };

  for (uint64_t pc = 0; pc < code_size; ++pc) {
    uint32_t i;
    std::memcpy(&i, code_bytes.data() + pc * 4, 4);
    const uint32_t op = i & 0x7f, a = (i >> 7) & 0xff, b = (i >> 16) & 0xff, c = (i >> 24) & 0xff;
    if (op == kOpGetTabUp && env(b)) {
      if (const Constant* k = name(c)) names.read.insert(k->text);
    } else if (op == kOpSetTabUp && env(a)) {
      if (const Constant* k = name(b)) names.assigned.insert(k->text);
    } else if ((op == kOpGetUpval || op == kOpSetUpval) && env(b)) {
      // _ENV read as a value, or replaced (`_ENV = t`): what names mean is no longer known.
      names.dynamic = true;
    }
  }
  return absl::OkStatus();
}

int Append(lua_State*, const void* p, size_t size, void* out) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(p), size);
  return 0;
}

}  // namespace

absl::StatusOr<GlobalNames> GlobalNamesOfDump(absl::string_view dump) {
  if (dump.size() < kHeaderSize || dump.substr(0, 4) != absl::string_view(kSignature, 4) ||
      static_cast<uint8_t>(dump[4]) != kVersion) {
    return absl::InternalError("Lua bytecode: not a Lua 5.4 chunk");
  }
  if (dump[12] != 4 || dump[13] != 8 || dump[14] != 8) {
    return absl::InternalError("Lua bytecode: unexpected instruction or number sizes");
  }
  DumpReader r(dump.substr(kHeaderSize));
  RETURN_IF_ERROR(r.Byte().status());  // the main function's upvalue count
  GlobalNames names;
  RETURN_IF_ERROR(ReadFunction(r, names));
  return names;
}

absl::StatusOr<GlobalNames> GlobalNamesOf(lua_State* L) {
  std::string dump;
  if (lua_dump(L, Append, &dump, /*strip=*/0) != 0) {
    return absl::InternalError("Lua bytecode: lua_dump failed");
  }
  return GlobalNamesOfDump(dump);
}

}  // namespace granary::transforms
