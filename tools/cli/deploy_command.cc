#include "tools/cli/deploy_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "yaml-cpp/yaml.h"

#include "libs/base/status_macros.h"
#include "tools/cli/program.h"

namespace granary::cli {
namespace {

namespace fs = std::filesystem;

bool Loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" ||
         absl::StartsWith(host, "127.");
}

// The host of scheme://[user:password@]host:port (the first URL of a list); IPv6 in brackets.
std::string NatsHost(const std::string& url) {
  absl::string_view rest = absl::string_view(url).substr(0, url.find(','));
  if (size_t scheme = rest.find("://"); scheme != absl::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) rest.remove_prefix(at + 1);
  if (absl::StartsWith(rest, "[")) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

// A scalar quoted in kustomize's output stays quoted ("true", "9565" must stay strings for the
// API server: annotations and KEDA's trigger metadata are maps of strings); yaml-cpp keeps the
// distinction only as the node's tag, "!" for a quoted scalar.
void Emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        out << YAML::Key;
        Emit(out, kv.first);
        out << YAML::Value;
        Emit(out, kv.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    default:
      out << YAML::Null;
  }
}

// Sets a string the API server must read as one: quoted on output (a namespace "2024" or an
// image tag "1.10" must not become a number).
void SetString(YAML::Node node, const std::string& value) {
  node = value;
  node.SetTag("!");
}

// Points every reference to a renamed ConfigMap in a pod template at its new name: volumes
// and projected volumes (configMap), envFrom (configMapRef), env (configMapKeyRef), in any
// container list.
void RenameConfigMapRefs(YAML::Node node, const std::map<std::string, std::string>& renamed) {
  if (node.IsSequence()) {
    for (YAML::Node item : node) RenameConfigMapRefs(item, renamed);
    return;
  }
  if (!node.IsMap()) return;
  for (auto kv : node) {
    const std::string key = kv.first.as<std::string>("");
    if ((key == "configMap" || key == "configMapRef" || key == "configMapKeyRef") &&
        kv.second.IsMap() && kv.second["name"]) {
      auto it = renamed.find(kv.second["name"].as<std::string>(""));
      if (it != renamed.end()) SetString(kv.second["name"], it->second);
    }
    RenameConfigMapRefs(kv.second, renamed);
  }
}

// deploy.yaml's replicas for a service, or 0 when it leaves them to the overlay.
int ReplicasOf(const DeployConfig& config, const std::string& service) {
  auto it = config.replicas.find(service);
  return it == config.replicas.end() ? 0 : it->second;
}

// The service a Granary object belongs to: granary-serving -> serving.
std::string ServiceOf(const std::string& name) {
  for (const char* service : kDeployServices) {
    if (name == absl::StrCat("granary-", service)) return service;
  }
  return "";
}

// Sets deploy.yaml's backend addresses and users in one service's config (its passwords stay
// the mounted Secret's files). Loopback addresses are the local stack's: left as they are.
class ConfigRewriter {
 public:
  ConfigRewriter(const DeployConfig& config, std::ostream& notes) : c_(config), notes_(notes) {}

  std::string Rewrite(const std::string& service, const std::string& text) {
    YAML::Node root = YAML::Load(text);
    if (service == "registry") Postgres(root["postgres"], c_.registry_postgres);
    if (service == "serving") Redis(root["redis"], c_.serving_redis);
    if (service == "materializer") {
      Redis(root["redis"], c_.materializer_redis);
      Postgres(root["offline_store"], c_.offline_reader);
      Postgres(root["offline_store_writer"], c_.offline_writer);
    }
    if (auto it = c_.nats.find(service); it != c_.nats.end() && root["nats"]) {
      if (Loopback(NatsHost(it->second.url))) {
        Note("NATS", it->second.url);
      } else {
        root["nats"]["url"] = it->second.url;
      }
      if (!it->second.user.empty()) root["nats"]["user"] = it->second.user;
    }
    if (service == "gateway" && c_.gateway_auth && root["gateway"]["auth"]) {
      Auth(root["gateway"]["auth"]);
    }
    if (c_.tracing) Tracing(root["server"]["tracing"]);
    YAML::Emitter out;
    out << root;
    return absl::StrCat("# Set by granary deploy from ", c_.path, ".\n", out.c_str(), "\n");
  }

 private:
  void Note(const std::string& what, const std::string& address) {
    if (noted_.insert(what).second) {
      notes_ << "granary deploy: " << what << " is at " << address << " in " << c_.path
             << " (the local stack): the manifests keep the overlay's address\n";
    }
  }
  void Postgres(YAML::Node section, const std::optional<pg::PgOptions>& o) {
    if (!section || !o) return;
    if (Loopback(o->host)) {
      Note("PostgreSQL", absl::StrCat(o->host, ":", o->port));
    } else {
      section["address"] = absl::StrCat(o->host, ":", o->port);
      section["sslmode"] = o->sslmode;
    }
    section["database"] = o->database;
    section["user"] = o->user;
  }
  void Redis(YAML::Node section, const std::optional<redis::RedisOptions>& o) {
    if (!section || !o) return;
    if (Loopback(o->host)) {
      Note("Redis", absl::StrCat(o->host, ":", o->port));
    } else {
      section["address"] = absl::StrCat(o->host, ":", o->port);
    }
    if (!o->user.empty()) section["user"] = o->user;
  }
  void Tracing(YAML::Node tracing) {
    const trace::TracingConfig& t = *c_.tracing;
    tracing["otlp_endpoint"] = t.otlp_endpoint;
    tracing["otlp_tls"] = t.otlp_tls;
    tracing["sample_ratio"] = t.sample_ratio;
    tracing["export_interval"] = absl::FormatDuration(t.export_interval);
    tracing["max_batch"] = t.max_batch;
    tracing["max_queue"] = t.max_queue;
    tracing["export_timeout"] = absl::FormatDuration(t.export_timeout);
  }
  void Auth(YAML::Node auth) {
    const auth::AuthConfig& a = *c_.gateway_auth;
    auth["type"] = a.type;
    if (!a.algorithms.empty()) auth["algorithms"] = a.algorithms;
    if (std::find(a.algorithms.begin(), a.algorithms.end(), "HS256") == a.algorithms.end()) {
      auth.remove("hs256_secret");
    }
    if (!a.issuer.empty()) auth["issuer"] = a.issuer;
    if (!a.audiences.empty()) auth["audiences"] = a.audiences;
    if (!a.discovery_url.empty()) auth["discovery_url"] = a.discovery_url;
    if (a.type == "kubernetes") auth["kubernetes"]["namespace"] = c_.kubernetes_namespace;
  }

  const DeployConfig& c_;
  std::ostream& notes_;
  std::set<std::string> noted_;
};

void SetMinimum(YAML::Node spec, const char* min_key, const char* max_key, int replicas) {
  spec[min_key] = replicas;
  if (spec[max_key] && spec[max_key].as<int>() < replicas) spec[max_key] = replicas;
}

// The Granary checkout: the first folder at or above `start` with deploy/ and tools/dev.
std::string FindRepo(const fs::path& start) {
  std::error_code ec;
  fs::path at = fs::absolute(start, ec).lexically_normal();
  while (true) {
    if (fs::exists(at / "deploy/k8s/base/kustomization.yaml", ec) &&
        fs::exists(at / "tools/dev", ec)) {
      return at.string();
    }
    if (!at.has_relative_path()) return "";
    at = at.parent_path();
  }
}

}  // namespace

absl::StatusOr<std::string> CustomizeManifests(const std::string& rendered,
                                               const DeployConfig& config, std::ostream& notes) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(rendered);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kustomize's output is not YAML: ", e.what()));
  }
  const std::string& ns = config.kubernetes_namespace;
  ConfigRewriter configs(config, notes);
  // First what the others refer to: which Deployments an autoscaler sizes, and the ConfigMaps,
  // renamed with a hash of their new content (as kustomize names them) so that a changed
  // config rolls the pods that mount it.
  std::set<std::string> autoscaled;
  std::map<std::string, std::string> renamed;
  for (YAML::Node doc : docs) {
    if (!doc || !doc["kind"]) continue;
    const std::string kind = doc["kind"].as<std::string>();
    if (kind == "HorizontalPodAutoscaler" || kind == "ScaledObject") {
      autoscaled.insert(doc["spec"]["scaleTargetRef"]["name"].as<std::string>(""));
    }
    if (kind != "ConfigMap" || !doc["data"]) continue;
    bool changed = false;
    for (const char* service : kDeployServices) {
      const std::string key = absl::StrCat(service, ".yaml");
      if (!doc["data"][key]) continue;
      doc["data"][key] = configs.Rewrite(service, doc["data"][key].as<std::string>());
      changed = true;
    }
    if (!changed) continue;
    const std::string name = doc["metadata"]["name"].as<std::string>();
    uint32_t hash = 2166136261u;  // FNV-1a of the data
    for (const auto& kv : doc["data"]) {
      for (char c : kv.second.as<std::string>())
        hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
    }
    // Without kustomize's suffix (the last dash), then ours.
    const std::string base = name.substr(0, name.rfind('-'));
    renamed[name] = absl::StrCat(base, "-", absl::Hex(hash, absl::kZeroPad8));
    SetString(doc["metadata"]["name"], renamed[name]);
  }
  std::string out;
  for (YAML::Node doc : docs) {
    if (!doc || !doc["kind"]) continue;
    const std::string kind = doc["kind"].as<std::string>();
    const std::string name = doc["metadata"]["name"].as<std::string>("");
    std::string old_ns = doc["metadata"]["namespace"].as<std::string>("");
    // Only what the overlay put in a namespace: the rest is cluster-wide.
    if (!old_ns.empty()) SetString(doc["metadata"]["namespace"], ns);
    if ((kind == "RoleBinding" || kind == "ClusterRoleBinding") && doc["subjects"]) {
      for (YAML::Node subject : doc["subjects"]) {
        if (subject["kind"].as<std::string>("") == "ServiceAccount") {
          SetString(subject["namespace"], ns);
        }
      }
    }
    // One per namespace: two deployments in two namespaces must not replace each other's.
    if (kind == "ClusterRoleBinding" && old_ns.empty() && ns != "granary") {
      SetString(doc["metadata"]["name"], absl::StrCat(name, "-", ns));
    }
    if (kind == "Deployment") {
      std::string service = ServiceOf(name);
      if (autoscaled.count(name) > 0) {
        // The autoscaler owns the count: a count here would reset it at every apply.
        doc["spec"].remove("replicas");
      } else if (int n = ReplicasOf(config, service); n > 0) {
        doc["spec"]["replicas"] = n;
      }
      YAML::Node pod = doc["spec"]["template"]["spec"];
      for (YAML::Node container : pod["containers"]) SetString(container["image"], config.image);
      RenameConfigMapRefs(pod, renamed);
    }
    if (kind == "HorizontalPodAutoscaler") {
      std::string service = ServiceOf(doc["spec"]["scaleTargetRef"]["name"].as<std::string>(""));
      if (int n = ReplicasOf(config, service); n > 0) {
        SetMinimum(doc["spec"], "minReplicas", "maxReplicas", n);
      }
    }
    if (kind == "ScaledObject") {
      std::string service = ServiceOf(doc["spec"]["scaleTargetRef"]["name"].as<std::string>(""));
      if (int n = ReplicasOf(config, service); n > 0) {
        SetMinimum(doc["spec"], "minReplicaCount", "maxReplicaCount", n);
      }
      // KEDA reads NATS's monitoring port: the NATS of deploy.yaml, or the overlay's in the
      // new namespace.
      auto nats = config.nats.find("materializer");
      for (YAML::Node trigger : doc["spec"]["triggers"]) {
        YAML::Node endpoint = trigger["metadata"]["natsServerMonitoringEndpoint"];
        if (!endpoint) continue;
        if (nats != config.nats.end() && !Loopback(NatsHost(nats->second.url))) {
          SetString(endpoint, absl::StrCat(NatsHost(nats->second.url), ":8222"));
        } else if (!old_ns.empty()) {
          SetString(endpoint, absl::StrReplaceAll(endpoint.as<std::string>(),
                                                  {{absl::StrCat(".", old_ns, ".svc"),
                                                    absl::StrCat(".", ns, ".svc")}}));
        }
      }
    }
    YAML::Emitter emitter;
    Emit(emitter, doc);
    absl::StrAppend(&out, "---\n", emitter.c_str(), "\n");
  }
  return out;
}

std::string ComposeOverride(const DeployConfig& config) {
  std::string out = absl::StrCat("# Written by granary deploy from ", config.path,
                                 ": the image and each service's replicas.\nservices:\n");
  for (const char* service : kDeployServices) {
    absl::StrAppend(&out, "  ", service, ":\n    image: ", config.image, "\n");
    if (int n = ReplicasOf(config, service); n > 0) {
      absl::StrAppend(&out, "    deploy: {replicas: ", n, "}\n");
    }
  }
  return out;
}

int RunDeploy(const DeployOptions& o, std::ostream& out, std::ostream& err) {
  absl::StatusOr<DeployConfig> config = ReadDeployConfig(o.file);
  if (!config.ok()) {
    err << "granary deploy: " << o.file << ": " << config.status().message() << "\n";
    return 1;
  }
  std::string target = !o.target.empty()    ? o.target
                       : !o.overlay.empty() ? "kubernetes"
                                            : config->target;
  std::string repo = !o.repo.empty() ? o.repo : FindRepo(fs::current_path());
  if (repo.empty()) repo = FindRepo(fs::path(o.file).parent_path());
  if (repo.empty()) {
    err << "granary deploy: no Granary checkout (deploy/k8s and tools/dev) at or above this "
           "folder or "
        << o.file << "; pass --repo DIR\n";
    return 1;
  }
  if (target == "local") {
    std::vector<std::string> argv = {repo + "/tools/dev", "up"};
    if (o.dry_run) {
      out << "would run: " << absl::StrJoin(argv, " ") << "\n";
      return 0;
    }
    absl::StatusOr<int> status = RunProgram(argv);
    if (!status.ok()) err << "granary deploy: " << status.status().message() << "\n";
    return status.ok() ? *status : 1;
  }
  if (target == "compose") {
    const std::string override_path =
        (fs::absolute(o.file).parent_path() / "compose.override.yaml").string();
    std::vector<std::string> compose = HasProgram("docker")
                                           ? std::vector<std::string>{"docker", "compose"}
                                           : std::vector<std::string>{"docker-compose"};
    compose.insert(compose.end(), {"-f", repo + "/compose.yaml", "-f", override_path, "up", "-d"});
    if (o.dry_run) {
      out << "# " << override_path << "\n"
          << ComposeOverride(*config) << "# would run: " << absl::StrJoin(compose, " ") << "\n";
      return 0;
    }
    std::ofstream(override_path) << ComposeOverride(*config);
    absl::StatusOr<int> status = RunProgram(compose);
    if (!status.ok()) err << "granary deploy: " << status.status().message() << "\n";
    return status.ok() ? *status : 1;
  }
  if (target != "kubernetes") {
    err << "granary deploy: --target: expected local, compose or kubernetes\n";
    return 2;
  }
  const std::string overlay = o.overlay.empty() ? "prod" : o.overlay;
  const std::string dir = absl::StrCat(repo, "/deploy/k8s/overlays/", overlay);
  if (!fs::is_directory(dir)) {
    err << "granary deploy: no overlay " << overlay << " (" << dir << ")\n";
    return 2;
  }
  absl::StatusOr<std::string> rendered = CaptureProgram({"kubectl", "kustomize", dir});
  if (!rendered.ok()) {
    err << "granary deploy: rendering " << dir << ": " << rendered.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> manifests = CustomizeManifests(*rendered, *config, err);
  if (!manifests.ok()) {
    err << "granary deploy: " << manifests.status().message() << "\n";
    return 1;
  }
  if (o.dry_run) {
    out << "# granary deploy --dry-run: overlay " << overlay << ", namespace "
        << config->kubernetes_namespace << ", image " << config->image
        << ". Create the Secret granary-secrets first (deploy/k8s/README.md).\n"
        << *manifests;
    return 0;
  }
  absl::StatusOr<int> status = RunProgram({"kubectl", "apply", "-f", "-"}, *manifests);
  if (!status.ok()) err << "granary deploy: " << status.status().message() << "\n";
  return status.ok() ? *status : 1;
}

void AddDeployCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DeployOptions>();
  CLI::App* cmd = app.add_subcommand(
      "deploy", "Deploy what deploy.yaml describes: locally, with compose or on Kubernetes");
  cmd->add_option("-f,--file", o->file, "The deployment's config (default: ./deploy.yaml)");
  cmd->add_option("--target", o->target, "local, compose or kubernetes (default: deploy.yaml's)");
  cmd->add_option("--overlay", o->overlay,
                  "Kubernetes overlay of deploy/k8s: dev or prod (implies --target kubernetes)");
  cmd->add_option("--repo", o->repo, "The Granary checkout (default: found above this folder)");
  cmd->add_flag("--dry-run", o->dry_run,
                "Print the manifests, override or command instead of applying or running them");
  cmd->callback([o, exit_code] { *exit_code = RunDeploy(*o, std::cout, std::cerr); });
}

}  // namespace granary::cli
