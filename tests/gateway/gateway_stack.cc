#include "tests/gateway/gateway_stack.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "libs/auth/permission_index.h"
#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"

namespace granary::testing {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Permissions beyond the example's readers and writers, for name-pattern and tag checks.
void AddTestPermissions(registry::v1::FeatureRepo& repo) {
  auto* pattern = repo.add_permissions();
  pattern->set_name("driver_prefixed_readers");
  pattern->add_types(registry::v1::FEATURE_VIEW);
  pattern->add_types(registry::v1::ON_DEMAND_FEATURE_VIEW);
  pattern->add_name_patterns("driver_.*");
  pattern->add_actions(registry::v1::Permission::READ_ONLINE);
  pattern->mutable_policy()->add_roles("pattern_reader");
  auto* team = repo.add_permissions();
  team->set_name("driver_team_readers");
  team->add_actions(registry::v1::Permission::READ_ONLINE);
  (*team->mutable_required_tags())["team"] = "driver_performance";
  team->mutable_policy()->add_groups("driver-team");
  auto* other = repo.add_permissions();
  other->set_name("other_team_readers");
  other->add_actions(registry::v1::Permission::READ_ONLINE);
  (*other->mutable_required_tags())["team"] = "pricing";
  other->mutable_policy()->add_groups("pricing-team");
  auto* limited = repo.add_permissions();
  limited->set_name("limited_readers");
  limited->add_actions(registry::v1::Permission::READ_ONLINE);
  limited->mutable_policy()->add_roles("limited");
  // A browser of one team's views: the project and the views tagged for the team, nothing else
  // (the UI's tests check that nothing else appears).
  auto* browse_project = repo.add_permissions();
  browse_project->set_name("team_browsers_project");
  browse_project->add_types(registry::v1::PROJECT);
  browse_project->add_actions(registry::v1::Permission::DESCRIBE);
  browse_project->mutable_policy()->add_roles("team_browser");
  auto* browse_views = repo.add_permissions();
  browse_views->set_name("team_browsers_views");
  browse_views->add_types(registry::v1::FEATURE_VIEW);
  browse_views->add_actions(registry::v1::Permission::DESCRIBE);
  (*browse_views->mutable_required_tags())["team"] = "driver_performance";
  browse_views->mutable_policy()->add_roles("team_browser");
  // The project and nothing in it.
  auto* project_only = repo.add_permissions();
  project_only->set_name("project_browsers");
  project_only->add_types(registry::v1::PROJECT);
  project_only->add_actions(registry::v1::Permission::DESCRIBE);
  project_only->mutable_policy()->add_roles("project_browser");
}

}  // namespace

GatewayStack& GatewayStack::Get() {
  static GatewayStack* stack = [] {
    auto* s = new GatewayStack();
    s->status_ = s->Start();
    return s;
  }();
  return *stack;
}

absl::Status GatewayStack::Start() {
  // The signature secret exists before the stack: the registry requires it from the start.
  ASSIGN_OR_RETURN(TempDir secrets, TempDir::Create("gateway-secrets"));
  secrets_ = std::make_unique<TempDir>(std::move(secrets));
  signature_secret_ = "test-gateway-signature-secret-0123456789abcdef";
  const std::string signature_file = secrets_->path() + "/gateway.secret";
  RETURN_IF_ERROR(WriteFile(signature_file, signature_secret_));
  ASSIGN_OR_RETURN(stack_, TestStack::Start({.gateway_signature_secret_file = signature_file}));
  repo_ = stack_->repo();
  AddTestPermissions(repo_);
  RETURN_IF_ERROR(stack_->Apply(repo_).status());

  const std::string dir = stack_->dir();
  hs256_secret_ = "test-hs256-secret-of-at-least-32-bytes-0123456789";
  RETURN_IF_ERROR(WriteFile(dir + "/jwt.secret", hs256_secret_));
  ASSIGN_OR_RETURN(rsa_, auth::test::GenerateRsaKey("rsa-1"));
  RETURN_IF_ERROR(WriteFile(dir + "/jwks.json", auth::test::JwksJson({rsa_})));
  audit_path_ = dir + "/audit.log";

  // Every backend requires the gateway's signature (the stack's option); every spawned
  // service sends its spans to this process's receiver, soon after they end (the registry,
  // in the stack's own process, records none).
  traces_ = std::make_unique<trace::TestReceiver>();
  const std::string tracing =
      absl::StrCat("tracing: {otlp_endpoint: '", traces_->address(), "', export_interval: 50ms}");
  ASSIGN_OR_RETURN(serving_, stack_->Spawn("serving", {.server = tracing}));
  ASSIGN_OR_RETURN(ingestion_, stack_->Spawn("ingestion", {.server = tracing}));
  ASSIGN_OR_RETURN(materializer_, stack_->Spawn("materializer", {.server = tracing}));
  ASSIGN_OR_RETURN(idp_, TestIdp::Start({.key = rsa_,
                                         .client_id = "granary-ui",
                                         .user = {{"sub", "olivia"}, {"roles", {"reader"}}},
                                         .token_issuer = kIssuer,
                                         .token_audience = kAudience}));
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(1));
  http_port_ = ports[0];
  std::string section = absl::StrCat(
      "project: ", stack_->project(), ", upstreams: {serving: '", serving_->address(),
      "', ingestion: '", ingestion_->address(), "', materializer: '", materializer_->address(),
      "'}, auth: {type: jwt, algorithms: [HS256, RS256], hs256_secret: {file: '", dir,
      "/jwt.secret'}, jwks_file: '", dir, "/jwks.json', issuer: ", kIssuer, ", audiences: [",
      kAudience, "], leeway: 5s}, signature: {secret: {file: '", signature_file,
      "'}}, audit: {path: '", audit_path_, "'}, http: {address: '127.0.0.1:", http_port_,
      "', threads: 4}, rate_limits: {roles: [{role: limited, rate: 0.001, burst: 1}]}, ui: "
      "{metrics: ['http://127.0.0.1:",
      materializer_->metrics_port(), "/metrics'], oidc: {issuer: '", idp_->url(),
      "', client_id: granary-ui}}");
  ASSIGN_OR_RETURN(gateway_, stack_->Spawn("gateway", {.section = section, .server = tracing}));
  return absl::OkStatus();
}

nlohmann::json GatewayStack::GoodClaims(const std::string& user,
                                        const std::vector<std::string>& roles) {
  int64_t now = absl::ToUnixSeconds(absl::Now());
  return {{"sub", user},      {"roles", roles}, {"iss", kIssuer},
          {"aud", kAudience}, {"iat", now},     {"exp", now + 3600}};
}

std::string GatewayStack::Hs256(const nlohmann::json& claims) const {
  auto token = auth::test::SignToken("HS256", hs256_secret_, claims.dump());
  return token.ok() ? *token : "";
}

std::string GatewayStack::Token(const std::string& user, const std::vector<std::string>& roles,
                                const std::vector<std::string>& groups) const {
  nlohmann::json claims = GoodClaims(user, roles);
  if (!groups.empty()) claims["groups"] = groups;
  return Hs256(claims);
}

void GatewayStack::Authorize(grpc::ClientContext& ctx, const std::string& token) {
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

std::string GatewayStack::AuditText() const {
  std::ifstream in(audit_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> GatewayStack::AuditLines(const std::string& id) const {
  std::vector<nlohmann::json> lines;
  for (absl::string_view line : absl::StrSplit(AuditText(), '\n', absl::SkipEmpty())) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_object() &&
        (parsed.value("request_id", "") == id || parsed.value("trace_id", "") == id)) {
      lines.push_back(parsed);
    }
  }
  return lines;
}

}  // namespace granary::testing
