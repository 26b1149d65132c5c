#include "libs/testing/backend_process.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"

namespace granary::testing {
namespace {

constexpr int kPortAttempts = 5;
constexpr absl::Duration kReadyTimeout = absl::Seconds(30);

}  // namespace

absl::Status BackendProcess::StartOn(int port) {
  SubprocessOptions options{.argv = spec_.argv(port),
                            .env = spec_.env,
                            .log_path = spec_.log_path,
                            .run_as_user = spec_.run_as_user};
  ASSIGN_OR_RETURN(process_, Subprocess::Start(std::move(options)));
  absl::Status ready = process_->WaitForOutput(spec_.ready_line, kReadyTimeout);
  if (!ready.ok()) {
    process_->Stop().IgnoreError();
    if (absl::StrContains(process_->RecentOutput(), spec_.port_taken_line)) {
      return absl::AlreadyExistsError(absl::StrCat(spec_.name, ": port ", port, " is taken"));
    }
    return absl::UnavailableError(absl::StrCat(spec_.name, " did not start: ", ready.message()));
  }
  port_ = port;
  return absl::OkStatus();
}

absl::Status BackendProcess::StartOnFreePort() {
  absl::Status last;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    ASSIGN_OR_RETURN(int port, PickFreePort());
    last = StartOn(port);
    if (!absl::IsAlreadyExists(last)) return last;
  }
  return last;
}

absl::Status BackendProcess::Restart() {
  if (port_ == 0) return absl::FailedPreconditionError(spec_.name + " was never started");
  if (running()) RETURN_IF_ERROR(Stop());
  return StartOn(port_);
}

absl::Status BackendProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  return process_->Stop(spec_.stop_signal, absl::Seconds(15));
}

absl::Status BackendProcess::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  return process_->Kill();
}

absl::StatusOr<std::string> PostgresBinDir() {
  if (const char* env = std::getenv("GRANARY_PG_BIN")) return std::string(env);
  int best = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    int version;
    if (absl::SimpleAtoi(entry.path().filename().string(), &version) && version > best &&
        std::filesystem::exists(entry.path() / "bin" / "postgres")) {
      best = version;
    }
  }
  if (best < 0) {
    return absl::NotFoundError(
        "no PostgreSQL server under /usr/lib/postgresql (run tools/setup, or set GRANARY_PG_BIN)");
  }
  return absl::StrCat("/usr/lib/postgresql/", best, "/bin");
}

}  // namespace granary::testing
