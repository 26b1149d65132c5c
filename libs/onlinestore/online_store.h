// The online store as serving, the writers and the loaders see it: a store hands out sessions,
// one per thread (no lock on the read path), and a session reads many hashes in one round
// trip and writes rows guarded by event time. RedisOnlineStore is the implementation, in
// Feast's Redis layout (libs/keys).
//
//   std::unique_ptr<OnlineStoreSession> session = store.NewSession();
//   RETURN_IF_ERROR(session->MultiGet(gets, deadline, [&](size_t get, size_t field,
//                                                         const char* data, size_t size) {...}));
#ifndef GRANARY_LIBS_ONLINESTORE_ONLINE_STORE_H_
#define GRANARY_LIBS_ONLINESTORE_ONLINE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace granary::onlinestore {

// Where each field of a HashGet is in its `fields` (distinct fields only).
using FieldPositions = absl::flat_hash_map<std::string, uint32_t>;

// One hash read: the fields of one hash (an HMGET, or an HGETALL picked from).
struct HashGet {
  absl::string_view key;
  const std::vector<std::string>* fields;
  // The fields as the Redis protocol writes them (read_pipeline.h EncodeFields), when the
  // caller keeps them: then they are copied into the command, not formatted for every read.
  const std::string* encoded_fields = nullptr;
  // When set (the positions of `fields`, which must be distinct), the store may read the hash
  // whole (HGETALL) and pick
  // the fields out: what the caller sees is the same. Worth it when the get asks for most of
  // the hash: Redis keeps a small hash (up to hash-max-listpack-entries fields) as one flat
  // list and scans it once per field an HMGET names, so an HMGET of all 252 fields of a
  // 252-field hash costs it ~450 us against ~30 us for HGETALL.
  const FieldPositions* whole_hash = nullptr;
};

// Called for every field of every get, in order; data is nullptr for a field that is not set
// (or a hash that does not exist). The bytes are valid during the call only.
using FieldVisitor =
    absl::FunctionRef<void(size_t get, size_t field, const char* data, size_t size)>;

// A row of one feature view, to be written if it is newer than what is stored: a newer event
// time, or the same event time and a newer created time (as the point-in-time join decides).
struct RowWrite {
  std::string key;  // libs/keys RedisKey
  absl::Time event_time;
  // When the row was created: its created timestamp column, else when it was received.
  absl::Time created_time;
  // One serialized Value per feature of the ViewWrite; empty leaves that field as it is.
  std::vector<std::string> values;
};

struct ViewWrite {
  std::string view;                         // names "_ts:<view>" and "_created:<view>"
  std::vector<std::string> feature_fields;  // libs/keys FeatureField, one per value
  // The view's incarnation: its registry meta.created_version (0: unknown). Rows of an older
  // incarnation are replaced whatever their times; a newer incarnation's are never touched.
  int64_t view_version = 0;
  absl::Duration key_ttl = absl::ZeroDuration();  // EXPIRE on written keys; zero: never
  std::vector<RowWrite> rows;
  // Rows derived from another view's rows (write-time on-demand outputs) are guarded by that
  // view's stored row instead of their own: a row is written when it is that row (the same
  // event time, created time and incarnation `guard_view_version`) or newer, so the derived
  // fields always belong to the stored source row. Empty: guarded by their own.
  std::string guard_view;
  int64_t guard_view_version = 0;
};

struct WriteResult {
  // Rows written (rows not newer than the stored ones are not).
  int64_t written = 0;
  // Indices into ViewWrite::rows of rows not written because their key holds something other
  // than a hash (another program's key): they can never be written; every other row was.
  std::vector<size_t> wrong_type_rows;
};

// A feature view that was deleted, for removing its rows from the online store.
struct ViewRemoval {
  std::string project;
  std::string view;
  std::vector<std::string> feature_fields;  // libs/keys FeatureField of each of its features
  // The deleted incarnation: rows written for a view created again since are left alone.
  int64_t view_version = 0;
};

// Where a removal is: the store is scanned a page at a time, so a removal of any size makes
// progress that can be reported, and stops at any page.
struct RemovalProgress {
  std::string cursor = "0";
  bool done = false;
  int64_t keys_scanned = 0;
  int64_t rows_removed = 0;
};

class OnlineStoreSession {
 public:
  virtual ~OnlineStoreSession() = default;

  // Every get in one round trip. DEADLINE_EXCEEDED when the deadline passes (before or while
  // waiting), UNAVAILABLE when the store cannot be reached; the session reconnects by itself
  // on its next call.
  // Always by field (HMGET): HashGet::whole_hash is a choice the store may make, and sessions
  // (loaders, tools) do not.
  virtual absl::Status MultiGet(absl::Span<const HashGet> gets, absl::Time deadline,
                                FieldVisitor visit) = 0;
  // Writes each row that is newer than the stored one, atomically per row. Writing the same
  // rows again writes none: safe to repeat. Errors mean nothing is known of the rows (some may
  // be written): INVALID_ARGUMENT for a malformed write; otherwise the store's trouble
  // (UNAVAILABLE for Redis unreachable, out of memory, read-only, loading ...), which passes.
  virtual absl::StatusOr<WriteResult> WriteNewer(const ViewWrite& write, absl::Time deadline) = 0;
  // Removes the view's fields from one page of the project's keys (keys of other projects,
  // even ones whose names end the same way, are never touched), and moves `progress` on;
  // progress->done once every key was seen. Repeating a page is harmless.
  virtual absl::Status RemoveView(const ViewRemoval& removal, RemovalProgress* progress,
                                  absl::Time deadline) = 0;
  virtual absl::Status Ping(absl::Time deadline) = 0;
};

class ReadPipeline;

// A read that completes later, sharing its round trip with other callers' reads: on one of the
// store's I/O threads, or, when the store is idle, on the caller's own thread before ReadAsync
// returns (so a caller must not hold, around ReadAsync, a lock its Done takes); a read Redis
// is slow to answer there is finished on an I/O thread. The reader owns it and keeps it alive
// until Done.
//
//   class Lookup : public AsyncRead { ... OnField(...) {...} Done(status) { reply; delete? } };
//   store.ReadAsync(lookup);  // returns at once, or after reading on this thread (briefly)
class AsyncRead {
 public:
  virtual ~AsyncRead() = default;
  // The hash reads, and the time by which Done must have been called. Asked any number of times
  // until Done (and never after); the keys and field lists must stay valid until Done.
  virtual absl::Span<const HashGet> gets() const = 0;
  virtual absl::Time deadline() const = 0;
  // Once per field of every get, in order (data nullptr when the field or hash does not
  // exist), then Done(OK). A read that fails gets Done(error), possibly after some OnField
  // calls, whose data it must then ignore. Never called after Done.
  virtual void OnField(size_t get, size_t field, const char* data, size_t size) = 0;
  // Get `get` could not be read (its key holds another kind of value than a hash): none of
  // its fields come, the rest of the read goes on.
  virtual void OnGetError(size_t get, absl::string_view reason) = 0;
  // Exactly once. DEADLINE_EXCEEDED when the deadline passed first (even while others' reads
  // went on), UNAVAILABLE when the store cannot be reached.
  virtual void Done(absl::Status status) = 0;
  // Whether the store may do this read on the caller's thread when it is idle (a wake-up less),
  // making ReadAsync wait for Redis (briefly: see ReadPipelineOptions::caller_wait). A caller with
  // other work waiting says no, so that its thread stays free and concurrent reads share round
  // trips on the I/O threads.
  virtual bool MayReadOnCaller() const { return true; }

 private:
  friend class ReadPipeline;
  AsyncRead* next_queued_ = nullptr;  // the link of ReadPipeline's lock-free queue
};

class OnlineStore {
 public:
  virtual ~OnlineStore() = default;
  // A session for one thread. Sessions connect lazily.
  virtual std::unique_ptr<OnlineStoreSession> NewSession() = 0;
  // Starts `read` and returns at once, or after reading on the caller's thread for at most
  // the store's caller wait (ReadPipelineOptions::caller_wait); thread-safe. See AsyncRead.
  virtual void ReadAsync(AsyncRead* read) = 0;
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_ONLINE_STORE_H_
