#include "libs/auth/jwks_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"

namespace granary::auth {
namespace {

// A JWKS is a few kilobytes; anything this large is not one, and is not read into memory.
constexpr size_t kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    int err = errno;
    std::string message = absl::StrCat("JWKS file ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS file ", path, " is larger than ", kMaxFileBytes, " bytes"));
    }
  }
  if (std::ferror(file.get())) {
    return absl::UnavailableError(absl::StrCat("JWKS file ", path, ": read error"));
  }
  return text;
}

absl::StatusOr<KeySet> ReadKeys(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<KeySet> keys = ParseJwks(text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS file ", path, ": ", keys.status().message()));
  }
  return keys;
}

}  // namespace

JwksFileSource::JwksFileSource(std::string path, const base::Clock& clock, JwksFileOptions options)
    : path_(std::move(path)), options_(options), clock_(clock) {}

absl::StatusOr<std::shared_ptr<JwksFileSource>> JwksFileSource::Open(std::string path,
                                                                     const base::Clock& clock,
                                                                     JwksFileOptions options) {
  if (path.empty()) return absl::InvalidArgumentError("JWKS file path is empty");
  auto source = std::make_shared<JwksFileSource>(std::move(path), clock, options);
  {
    absl::MutexLock lock(&source->read_mu_);
    RETURN_IF_ERROR(source->ReadLocked());
  }
  // At start-up an empty set is surely the wrong file; later it may be a deliberate revocation.
  absl::MutexLock lock(&source->mu_);
  if (source->keys_->keys.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS file ", source->path_, " holds no RS256 or ES256 signing key"));
  }
  return source;
}

absl::StatusOr<std::shared_ptr<const KeySet>> JwksFileSource::Keys() {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (keys_ != nullptr &&
        (options_.max_age <= absl::ZeroDuration() || clock_.Now() - read_at_ < options_.max_age)) {
      return keys_;
    }
  }
  return Refresh(/*unknown_kid=*/false);
}

absl::StatusOr<std::shared_ptr<const KeySet>> JwksFileSource::KeysAfterUnknownKid() {
  return Refresh(/*unknown_kid=*/true);
}

int JwksFileSource::reads() const {
  absl::MutexLock lock(&read_mu_);
  return reads_;
}

absl::StatusOr<std::shared_ptr<const KeySet>> JwksFileSource::Refresh(bool unknown_kid) {
  absl::MutexLock read_lock(&read_mu_);
  bool due;
  {
    absl::ReaderMutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    const bool stale =
        options_.max_age > absl::ZeroDuration() && now - read_at_ >= options_.max_age;
    // Failed reads count too: a broken file is retried on this schedule, not per request.
    due = now - attempted_at_ >= options_.min_refresh_interval &&
          (keys_ == nullptr || unknown_kid || stale);
  }
  if (due) {
    absl::Status read = ReadLocked();
    if (!read.ok()) {
      base::LogWarning("JWKS file unreadable").With("path", path_).With("error", read);
    }
  }
  absl::ReaderMutexLock lock(&mu_);
  if (keys_ == nullptr) return absl::UnavailableError(last_error_.message());
  return keys_;
}

absl::Status JwksFileSource::ReadLocked() {
  ++reads_;
  const absl::Time now = clock_.Now();
  absl::StatusOr<KeySet> keys = ReadKeys(path_);
  absl::MutexLock lock(&mu_);
  attempted_at_ = now;
  if (!keys.ok()) {
    last_error_ = keys.status();
    return last_error_;
  }
  if (keys->keys.empty() && keys_ != nullptr) {
    base::LogWarning("JWKS file holds no signing key; tokens will be refused").With("path", path_);
  }
  keys_ = std::make_shared<const KeySet>(*std::move(keys));
  read_at_ = now;
  last_error_ = absl::OkStatus();
  return absl::OkStatus();
}

}  // namespace granary::auth
