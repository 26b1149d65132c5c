#include "libs/server/run_service.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/base/version.h"

namespace granary::server {
namespace internal {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::string config_path;
  bool check_config = false;
  bool version = false;
  bool help = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) return absl::InvalidArgumentError("--config needs a file");
      flags.config_path = argv[++i];
    } else if (absl::StartsWith(arg, "--config=")) {
      flags.config_path = std::string(arg.substr(strlen("--config=")));
    } else if (arg == "--check-config") {
      flags.check_config = true;
    } else if (arg == "--version") {
      flags.version = true;
    } else if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument \"", arg, "\""));
    }
  }
  return flags;
}

void PrintHelp(const std::string& name, const ServerDefaults& defaults) {
  std::printf(
      "granary-%s %s\n\n"
      "Usage: granary-%s [--config FILE] [--check-config]\n\n"
      "  --config FILE    YAML configuration (see services/%s/README.md)\n"
      "  --check-config   validate the configuration and exit (0 if valid, 2 if not)\n"
      "  --version        print the version and exit\n\n"
      "Defaults: gRPC on %s, Prometheus metrics on %s. SIGTERM or SIGINT drains and exits.\n",
      name.c_str(), base::kVersion, name.c_str(), name.c_str(), defaults.grpc_address.c_str(),
      defaults.metrics_address.c_str());
}

// Reads everything; INVALID_ARGUMENT listing every problem.
absl::StatusOr<std::pair<ServerConfig, BuildFn>> ReadAll(config::Reader root,
                                                         const ServerDefaults& defaults,
                                                         const ReadAndBind& read) {
  ServerConfig server = ReadServerConfig(root.Section("server"), defaults);
  BuildFn build = read(root);
  RETURN_IF_ERROR(root.Finish());
  return std::make_pair(server, build);
}

}  // namespace

int RunServiceMain(int argc, char** argv, const std::string& name, const ServerDefaults& defaults,
                   const ReadAndBind& read) {
  // A peer closing a socket must not kill the process (hiredis and friends write to sockets).
  signal(SIGPIPE, SIG_IGN);
  // Debian's Abseil is built with deadlock detection on, which records a lock graph on every
  // absl::Mutex acquisition, gRPC's own included: measurably slower on hot paths (see
  // tools/bench grpc_api). Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Blocked here, before any thread exists, so every thread inherits the mask and only the
  // signal thread below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "granary-%s: %s (see --help)\n", name.c_str(),
                 std::string(flags.status().message()).c_str());
    return kExitUsage;
  }
  if (flags->help) {
    PrintHelp(name, defaults);
    return kExitOk;
  }
  if (flags->version) {
    std::printf("granary-%s %s\n", name.c_str(), base::kVersion);
    return kExitOk;
  }

  absl::StatusOr<config::Reader> root = flags->config_path.empty()
                                            ? config::Reader::FromString("", "<defaults>")
                                            : config::Reader::FromFile(flags->config_path);
  absl::StatusOr<std::pair<ServerConfig, BuildFn>> all =
      root.ok() ? ReadAll(*root, defaults, read) : root.status();
  if (!all.ok()) {
    std::fprintf(stderr, "granary-%s: %s\n", name.c_str(),
                 std::string(all.status().message()).c_str());
    return kExitUsage;
  }
  if (flags->check_config) {
    std::printf("granary-%s: configuration OK\n", name.c_str());
    return kExitOk;
  }
  auto& [server_config, build] = *all;
  base::SetLogService(name);
  base::SetLogLevel(server_config.log_level);
  // Before the service's threads start.
  base::LogInfo("starting").With("malloc_arenas", ApplyMallocArenas(server_config));

  absl::StatusOr<std::unique_ptr<ServiceRuntime>> runtime =
      ServiceRuntime::Start(name, server_config, build);
  if (!runtime.ok()) {
    base::LogError("cannot start").With("error", runtime.status());
    return kExitFailure;
  }

  absl::Notification stop;
  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    base::LogInfo("signal received").With("signal", strsignal(received));
    stop.Notify();
    sigwait(&signals, &received);
    base::LogWarning("second signal: exiting without draining");
    _exit(kExitFailure);
  });
  signal_thread.detach();

  stop.WaitForNotification();
  (*runtime)->Shutdown();
  runtime->reset();
  return kExitOk;
}

absl::StatusOr<std::unique_ptr<ServiceRuntime>> StartFromYaml(const std::string& name,
                                                              absl::string_view yaml,
                                                              const ReadAndBind& read) {
  ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromString(yaml, "<in-process>"));
  ASSIGN_OR_RETURN(auto all, ReadAll(root, {"127.0.0.1:0", "127.0.0.1:0"}, read));
  return ServiceRuntime::Start(name, all.first, all.second);
}

}  // namespace internal
}  // namespace granary::server
