// Verification keys from a JWKS file (a mounted Secret or ConfigMap). The file is read again
// when a token names an unknown kid (a key was added) and when the held keys are older than
// `max_age` (a key was removed), at most once per `min_refresh_interval` whatever the cause,
// so neither a storm of forged kids nor a broken file turns into a storm of file reads.
//
//   // At start-up, so that a missing or broken file stops the process with its path:
//   ASSIGN_OR_RETURN(std::shared_ptr<JwksFileSource> keys,
//                    JwksFileSource::Open("/etc/granary/jwks.json"));
//   jwt_options.keys = keys;
//
// A file that cannot be read or parsed later leaves the held keys in place (an editor or a
// Secret update may be half-way through writing it).
#ifndef GRANARY_LIBS_AUTH_JWKS_FILE_H_
#define GRANARY_LIBS_AUTH_JWKS_FILE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/auth/jwks.h"
#include "libs/base/clock.h"

namespace granary::auth {

struct JwksFileOptions {
  // The least time between two reads of the file.
  absl::Duration min_refresh_interval = absl::Seconds(30);
  // Keys older than this are read again on next use, so a key removed from the file stops
  // verifying without a restart. Zero or less: only unknown kids cause reads.
  absl::Duration max_age = absl::Minutes(5);
};

class JwksFileSource : public KeySource {
 public:
  // Reads nothing yet: the first Keys() does. `clock` must outlive the source.
  JwksFileSource(std::string path, const base::Clock& clock, JwksFileOptions options = {});

  // A source that has read the file now. NOT_FOUND / PERMISSION_DENIED when it cannot be
  // read, INVALID_ARGUMENT when it is not a JWKS or holds no RS256 / ES256 key; each message
  // names the path.
  static absl::StatusOr<std::shared_ptr<JwksFileSource>> Open(
      std::string path, const base::Clock& clock = base::Clock::Real(),
      JwksFileOptions options = {});

  // UNAVAILABLE (naming the path and what went wrong) while the file was never read.
  absl::StatusOr<std::shared_ptr<const KeySet>> Keys() override;
  absl::StatusOr<std::shared_ptr<const KeySet>> KeysAfterUnknownKid() override;

  // How many times the file was read, successfully or not (for tests and metrics).
  int reads() const;

 private:
  // Reads the file if a read is due, then returns what is held.
  absl::StatusOr<std::shared_ptr<const KeySet>> Refresh(bool unknown_kid)
      ABSL_LOCKS_EXCLUDED(read_mu_, mu_);
  // Reads the file and keeps its keys when it parses; the error as the read saw it.
  absl::Status ReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const JwksFileOptions options_;
  const base::Clock& clock_;

  // Serializes reads of the file; a caller that waited here finds the read it waited for done.
  // Held apart from mu_ so verifications keep going while the file is read.
  mutable absl::Mutex read_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  int reads_ ABSL_GUARDED_BY(read_mu_) = 0;

  // Read on every verification, held only for copies.
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();       // last success
  absl::Time attempted_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // last attempt
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_JWKS_FILE_H_
