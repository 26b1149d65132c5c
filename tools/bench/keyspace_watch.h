// Records when each Redis key is written, from keyspace notifications (the server must have
// `notify-keyspace-events Kh`): how the ingestion benchmark sees a pushed row become servable
// without polling Redis.
//
//   KeyspaceWatch watch(host, port);
//   RETURN_IF_ERROR(watch.Start());
//   ... push ...
//   watch.Stop();
//   absl::Time landed = watch.FirstWrite(key);
#ifndef GRANARY_TOOLS_BENCH_KEYSPACE_WATCH_H_
#define GRANARY_TOOLS_BENCH_KEYSPACE_WATCH_H_

#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace granary::bench {

class KeyspaceWatch {
 public:
  KeyspaceWatch(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~KeyspaceWatch();

  // Subscribed once this returns.
  absl::Status Start();
  // Writes a marker key and returns once its notification came: every earlier write was seen.
  void Stop();
  // When `key` was first written after Start; InfinitePast when it was not.
  absl::Time FirstWrite(const std::string& key) const;

 private:
  void Loop(void* context);

  const std::string host_;
  const int port_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> writes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_KEYSPACE_WATCH_H_
