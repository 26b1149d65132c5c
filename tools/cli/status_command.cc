#include "tools/cli/status_command.h"

#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

#include "libs/rpc/health.h"
#include "tools/cli/channel.h"
#include "tools/cli/command.h"

namespace granary::cli {
namespace {

struct Probe {
  std::string name;
  std::string address;
  std::string state;   // SERVING, NOT_SERVING, UNREACHABLE, ...
  std::string detail;  // error text when unreachable
  absl::Duration latency;
};

Probe Check(const std::string& address, absl::Duration timeout) {
  Probe p{.address = address};
  absl::Time start = absl::Now();
  absl::StatusOr<rpc::HealthState> state =
      rpc::CheckHealth(OpenChannel({.address = address}), "", timeout);
  p.latency = absl::Now() - start;
  if (state.ok()) {
    p.state = std::string(rpc::HealthStateName(*state));
  } else {
    p.state = "UNREACHABLE";
    p.detail = std::string(state.status().message());
  }
  return p;
}

}  // namespace

int RunStatus(const Endpoints& endpoints, const StatusOptions& options, std::ostream& out) {
  // All at once: a down service costs one timeout, not one per service. Services reached
  // through the gateway share its address, which is asked once.
  std::map<std::string, std::shared_future<Probe>> by_address;
  for (const auto& [name, address] : endpoints.All()) {
    if (by_address.count(address) == 0) {
      by_address[address] = std::async(std::launch::async, Check, address, options.timeout).share();
    }
  }
  bool all_serving = true;
  nlohmann::json report = nlohmann::json::array();
  for (const auto& [name, address] : endpoints.All()) {
    Probe p = by_address[address].get();
    p.name = name;
    all_serving = all_serving && p.state == "SERVING";
    if (options.json) {
      report.push_back({{"service", p.name},
                        {"address", p.address},
                        {"status", p.state},
                        {"latency_ms", absl::ToDoubleMilliseconds(p.latency)},
                        {"error", p.detail}});
      continue;
    }
    out << absl::StrFormat("%-13s %-21s %-12s %s\n", p.name, p.address, p.state,
                           p.detail.empty()
                               ? absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(p.latency))
                               : p.detail);
  }
  if (options.json) out << report.dump(2) << "\n";
  return all_serving ? 0 : 1;
}

int RunHealth(const std::string& address, absl::Duration timeout, std::ostream& out) {
  Probe p = Check(address, timeout);
  out << p.state << (p.detail.empty() ? "" : absl::StrCat(": ", p.detail)) << "\n";
  return p.state == "SERVING" ? 0 : 1;
}

void AddStatusCommand(CLI::App& app, int* exit_code) {
  struct State {
    Endpoints services;
    std::string timeout = "2s";
    bool json = false;
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Health of each service, one line each; exit 1 unless all are SERVING");
  cmd->add_option("--registry", s->services.registry, "registry address host:port");
  cmd->add_option("--serving", s->services.serving, "serving address host:port");
  cmd->add_option("--ingestion", s->services.ingestion, "ingestion address host:port");
  cmd->add_option("--materializer", s->services.materializer, "materializer address host:port");
  cmd->add_option("--timeout", s->timeout, "How long to wait for each service (e.g. 2s)");
  cmd->add_flag("--json", s->json, "Print JSON for scripts");
  cmd->footer(
      "Addresses: the flags above, the global --endpoints FILE (else $GRANARY_ENDPOINTS)\n"
      "and --gateway, else 127.0.0.1:6565 (granary.yaml is not read). A service reached\n"
      "through the gateway shows the gateway's health. Health needs no token.");
  cmd->callback([cmd, s, exit_code] {
    StatusOptions options{.json = s->json};
    if (!absl::ParseDuration(s->timeout, &options.timeout)) {
      return void(*exit_code = Usage("status", "--timeout: expected a duration such as 2s"));
    }
    GlobalFlags globals = GlobalFlagsOf(cmd);
    EndpointFlags flags{.file = globals.endpoints, .overrides = s->services};
    flags.overrides.gateway = globals.gateway;
    absl::StatusOr<Endpoints> endpoints = ResolveEndpoints(flags);
    if (!endpoints.ok()) return void(*exit_code = Usage("status", endpoints.status().message()));
    *exit_code = RunStatus(*endpoints, options, std::cout);
  });

  // The probe of container health checks: one address, nothing read from files or the
  // environment, so it works in an image that has only the binaries.
  struct HealthState {
    std::string address;
    std::string timeout = "2s";
  };
  auto h = std::make_shared<HealthState>();
  CLI::App* health = app.add_subcommand(
      "health", "Health of the process at ADDRESS: prints its state, exit 0 only when SERVING");
  health->add_option("address", h->address, "host:port of a service's gRPC port")->required();
  health->add_option("--timeout", h->timeout, "How long to wait for the answer (e.g. 2s)");
  health->footer("For container health checks: HEALTHCHECK CMD granary health 127.0.0.1:6571");
  health->callback([h, exit_code] {
    absl::Duration timeout;
    if (!absl::ParseDuration(h->timeout, &timeout)) {
      return void(*exit_code = Usage("health", "--timeout: expected a duration such as 2s"));
    }
    *exit_code = RunHealth(h->address, timeout, std::cout);
  });
}

}  // namespace granary::cli
