#include "services/gateway/config.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "libs/base/cpus.h"

namespace granary::gateway {
namespace {

RateLimit ReadLimit(config::Reader section) {
  RateLimit limit;
  limit.rate = section.Double("rate", 0, 0);
  limit.burst = section.Double("burst", limit.rate, 0);
  return limit;
}

}  // namespace

GatewayConfig ReadGatewayConfig(config::Reader& root) {
  GatewayConfig c;
  c.registry = registry_client::ReadRegistryClientOptions(root.Section("registry"));
  if (root.Has("nats")) c.nats = bus::ReadNatsOptions(root.Section("nats"));
  config::Reader gateway = root.Section("gateway");
  c.projects = registry_client::ReadServedProjects(gateway);
  config::Reader up = gateway.Section("upstreams");
  c.upstreams.registry = c.registry.address;
  c.upstreams.serving = up.Address("serving", "127.0.0.1:6571");
  c.upstreams.ingestion = up.Address("ingestion", "127.0.0.1:6572");
  c.upstreams.materializer = up.Address("materializer", "127.0.0.1:6573");
  c.auth = auth::ReadAuthConfig(gateway.Section("auth"));
  config::Reader signature = gateway.Section("signature");
  c.signature_secret = signature.SecretValue("secret");
  c.signature_ttl = signature.Duration("ttl", c.signature_ttl, absl::Seconds(1), absl::Minutes(10));
  if (c.signature_secret.empty()) {
    signature.AddError("secret", "required: the key the backends verify callers with");
  }
  c.audit_path = gateway.Section("audit").String("path", "stdout");
  config::Reader http = gateway.Section("http");
  // Empty: no HTTP door.
  c.http.address = http.Has("address") && http.String("address", "").empty()
                       ? ""
                       : http.Address("address", "0.0.0.0:6566");
  c.http.threads = static_cast<int>(http.Int("threads", c.http.threads, 1, 1024));
  c.http.max_body_bytes = static_cast<size_t>(http.Bytes("max_body", 8 << 20, 1024, 1 << 30));
  c.http_timeout = http.Duration("timeout", c.http_timeout, absl::Milliseconds(10), absl::Hours(1));
  std::string library = http.String("library", "civetweb");
  if (library == "httplib") {
    c.http_library = HttpLibrary::kHttplib;
  } else if (library != "civetweb") {
    http.AddError("library", "expected civetweb or httplib");
  }
  config::Reader ui = gateway.Section("ui");
  c.ui.enabled = ui.Bool("enabled", c.ui.enabled) && !c.http.address.empty();
  c.ui.dir = ui.String("dir", "");
  c.ui.address = ui.Address("address", "");
  c.ui.vendor_dir = ui.String("vendor_dir", c.ui.vendor_dir);
  c.ui.metrics_urls = ui.StringList("metrics");
  c.ui.metrics_timeout = ui.Duration("metrics_timeout", c.ui.metrics_timeout,
                                     absl::Milliseconds(10), absl::Minutes(1));
  config::Reader oidc = ui.Section("oidc");
  c.ui.oidc_client_id = oidc.String("client_id", "");
  c.ui.oidc_issuer = oidc.String("issuer", c.auth.issuer);
  c.ui.oidc_scope = oidc.String("scope", c.ui.oidc_scope);
  c.ui.connect_origins = oidc.StringList("connect");
  for (const std::string& origin : c.ui.connect_origins) {
    // Goes into the page's CSP as is: scheme://host[:port] and nothing else.
    const size_t start = absl::StartsWith(origin, "https://")  ? 8
                         : absl::StartsWith(origin, "http://") ? 7
                                                               : std::string::npos;
    const bool ok = start != std::string::npos && start < origin.size() &&
                    std::all_of(origin.begin() + start, origin.end(), [](char c) {
                      return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == ':';
                    });
    if (!ok) {
      oidc.AddError("connect",
                    absl::StrCat("'", origin, "' is not an origin (https://host[:port])"));
    }
  }
  if (!c.ui.oidc_client_id.empty() && c.ui.oidc_issuer.empty()) {
    oidc.AddError("issuer", "required with client_id (or set auth.issuer)");
  }
  // Half the CPUs: the rest is left to the kernel's network work and the backends beside it.
  c.grpc_threads =
      static_cast<int>(gateway.Int("grpc_threads", std::max(1, base::UsableCpus() / 2), 1, 64));
  config::Reader limits = gateway.Section("rate_limits");
  c.rate_limits.default_limit = ReadLimit(limits.Section("default"));
  if (limits.Has("failures")) c.rate_limits.failures = ReadLimit(limits.Section("failures"));
  for (config::Reader item : limits.List("roles")) {
    std::string role = item.RequiredString("role");
    c.rate_limits.by_role[role] = ReadLimit(item);
  }
  return c;
}

}  // namespace granary::gateway
