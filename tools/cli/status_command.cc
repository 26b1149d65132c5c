#include "tools/cli/status_command.h"

#include <future>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

#include "libs/rpc/health.h"
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

Probe Check(const std::string& name, const std::string& address, absl::Duration timeout) {
  Probe p{.name = name, .address = address};
  absl::Time start = absl::Now();
  absl::StatusOr<rpc::HealthState> state =
      rpc::CheckHealth(rpc::InsecureChannel(address), "", timeout);
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
  // All at once: a down service costs one timeout, not one per service.
  std::vector<std::future<Probe>> pending;
  for (const auto& [name, address] : endpoints.All()) {
    pending.push_back(std::async(std::launch::async, Check, name, address, options.timeout));
  }
  bool all_serving = true;
  nlohmann::json report = nlohmann::json::array();
  for (auto& f : pending) {
    Probe p = f.get();
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

void AddStatusCommand(CLI::App& app, int* exit_code) {
  struct State {
    EndpointFlags endpoints;
    std::string timeout = "2s";
    bool json = false;
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Health of each service, one line each; exit 1 unless all are SERVING");
  cmd->add_option("--endpoints", s->endpoints.file,
                  "YAML file with an `endpoints:` section (default: $GRANARY_ENDPOINTS)");
  cmd->add_option("--gateway", s->endpoints.overrides.gateway, "gateway address host:port");
  cmd->add_option("--registry", s->endpoints.overrides.registry, "registry address host:port");
  cmd->add_option("--serving", s->endpoints.overrides.serving, "serving address host:port");
  cmd->add_option("--ingestion", s->endpoints.overrides.ingestion, "ingestion address host:port");
  cmd->add_option("--materializer", s->endpoints.overrides.materializer,
                  "materializer address host:port");
  cmd->add_option("--timeout", s->timeout, "How long to wait for each service (e.g. 2s)");
  cmd->add_flag("--json", s->json, "Print JSON for scripts");
  cmd->callback([s, exit_code] {
    StatusOptions options{.json = s->json};
    if (!absl::ParseDuration(s->timeout, &options.timeout)) {
      return void(*exit_code = Usage("status", "--timeout: expected a duration such as 2s"));
    }
    absl::StatusOr<Endpoints> endpoints = ResolveEndpoints(s->endpoints);
    if (!endpoints.ok()) return void(*exit_code = Usage("status", endpoints.status().message()));
    *exit_code = RunStatus(*endpoints, options, std::cout);
  });
}

}  // namespace granary::cli
