// deploy/k8s as an operator renders it (`kubectl kustomize deploy/k8s/overlays/<name>`, with
// the kubectl on PATH, which may embed kustomize v2.0.3 or v5), checked object by object:
// every Deployment has gRPC readiness and liveness probes on its gRPC port, requests and limits
// and a non-root, locked-down security context; every ConfigMap or Secret it mounts is
// rendered or is the operator's granary-secrets, and every secret file its config names is a
// key it mounts; each service's binary accepts its config; NetworkPolicies let only the
// gateway reach serving, ingestion and the materializer; KEDA's ScaledObject targets the
// materializer on its durable consumers; HPAs and PDBs point at existing Deployments; the
// gateway's RBAC is bound in its namespace; the overlays' replica counts and namespaces.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "yaml-cpp/yaml.h"

#include "tests/deploy/programs.h"

namespace granary::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kSecretName[] = "granary-secrets";
constexpr char kSecretsDir[] = "/run/granary-secrets";
const char* const kServices[] = {"registry", "serving", "ingestion", "materializer", "gateway"};

// Whether `selector` (matchLabels, and matchExpressions with In / NotIn / Exists) selects
// `labels`. An empty selector selects everything, as in Kubernetes.
bool Selects(YAML::Node selector, YAML::Node labels) {
  for (auto label : selector["matchLabels"]) {
    if (labels[label.first.as<std::string>()].as<std::string>("") !=
        label.second.as<std::string>()) {
      return false;
    }
  }
  for (YAML::Node expression : selector["matchExpressions"]) {
    YAML::Node value = labels[expression["key"].as<std::string>()];
    const std::string op = expression["operator"].as<std::string>();
    std::set<std::string> values;
    for (YAML::Node v : expression["values"]) values.insert(v.as<std::string>());
    const bool in = value.IsDefined() && values.count(value.as<std::string>());
    if (op == "In" && !in) return false;
    if (op == "NotIn" && in) return false;
    if (op == "Exists" && !value.IsDefined()) return false;
  }
  return true;
}

// One overlay, rendered once for all its tests.
class OverlayTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // kustomize does not take a kustomization.yaml that is a symbolic link, and runfiles are
    // links: render a copy.
    const fs::path copy = TempPath(absl::StrCat("k8s-", GetParam()));
    fs::remove_all(copy);
    fs::copy("deploy/k8s", copy, fs::copy_options::recursive);
    const std::string rendered = TempPath(absl::StrCat(GetParam(), ".yaml"));
    Result kustomize = RunProgram(
        {FindProgram("kubectl"), "kustomize", (copy / "overlays" / GetParam()).string()}, rendered);
    ASSERT_EQ(kustomize.status, 0) << "kubectl kustomize overlays/" << GetParam() << ":\n"
                                   << kustomize.output;
    for (YAML::Node object : YAML::LoadAll(ReadFile(rendered))) {
      if (!object.IsMap()) continue;
      objects_.push_back(object);
      by_kind_[object["kind"].as<std::string>()].push_back(object);
    }
    ASSERT_EQ(Of("Deployment").size(), 5u) << "expected the five services' Deployments";
  }

  const std::vector<YAML::Node>& Of(const std::string& kind) { return by_kind_[kind]; }

  // The object of that kind and name, or an undefined node.
  YAML::Node Named(const std::string& kind, const std::string& name) {
    for (YAML::Node object : Of(kind)) {
      if (object["metadata"]["name"].as<std::string>() == name) return object;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  std::string Namespace() const { return GetParam() == "prod" ? "granary" : "granary-dev"; }

  std::vector<YAML::Node> objects_;
  std::map<std::string, std::vector<YAML::Node>> by_kind_;
};

TEST_P(OverlayTest, EveryDeploymentHasProbesLimitsAndANonRootLockedDownContext) {
  for (YAML::Node deployment : Of("Deployment")) {
    const std::string name = deployment["metadata"]["name"].as<std::string>();
    YAML::Node pod = deployment["spec"]["template"]["spec"];
    ASSERT_TRUE(pod["containers"].IsSequence()) << name;
    for (YAML::Node container : pod["containers"]) {
      const std::string where = absl::StrCat(name, "/", container["name"].as<std::string>());
      int grpc_port = 0;
      for (YAML::Node port : container["ports"]) {
        if (port["name"].as<std::string>("") == "grpc") grpc_port = port["containerPort"].as<int>();
      }
      EXPECT_GT(grpc_port, 0) << where << " has no port named grpc";
      for (const char* probe : {"readinessProbe", "livenessProbe"}) {
        EXPECT_EQ(container[probe]["grpc"]["port"].as<int>(-1), grpc_port)
            << where << ": " << probe << " is not a gRPC probe on the gRPC port";
      }
      for (const char* bound : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
          EXPECT_TRUE(container["resources"][bound][resource].IsDefined())
              << where << " has no " << resource << " " << bound;
        }
      }
      // The container's settings win over the pod's.
      YAML::Node own = container["securityContext"];
      YAML::Node shared = pod["securityContext"];
      const bool non_root = own["runAsNonRoot"].IsDefined()
                                ? own["runAsNonRoot"].as<bool>()
                                : shared["runAsNonRoot"].as<bool>(false);
      const int user = own["runAsUser"].IsDefined() ? own["runAsUser"].as<int>()
                                                    : shared["runAsUser"].as<int>(0);
      EXPECT_TRUE(non_root) << where;
      EXPECT_GT(user, 0) << where << " runs as root";
      EXPECT_FALSE(own["allowPrivilegeEscalation"].as<bool>(true)) << where;
      EXPECT_TRUE(own["readOnlyRootFilesystem"].as<bool>(false)) << where;
      std::set<std::string> dropped;
      for (YAML::Node c : own["capabilities"]["drop"]) dropped.insert(c.as<std::string>());
      EXPECT_TRUE(dropped.count("ALL")) << where << " keeps capabilities";
    }
  }
}

// Every config file is a key of a rendered ConfigMap; every Secret is the one operators create;
// every secret file a config names is mounted; and each service's binary accepts its config.
TEST_P(OverlayTest, MountsAreRenderedAndEachConfigIsOneItsServiceAccepts) {
  const std::string secrets = TempPath(absl::StrCat("secrets-", GetParam()));
  fs::create_directories(secrets);
  for (YAML::Node deployment : Of("Deployment")) {
    const std::string name = deployment["metadata"]["name"].as<std::string>();
    const std::string service =
        deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
            .as<std::string>("");
    std::map<std::string, YAML::Node> volumes;
    for (YAML::Node volume : deployment["spec"]["template"]["spec"]["volumes"]) {
      volumes[volume["name"].as<std::string>()] = volume;
    }
    std::string config_text;
    std::set<std::string> secret_keys;
    for (YAML::Node container : deployment["spec"]["template"]["spec"]["containers"]) {
      for (YAML::Node mount : container["volumeMounts"]) {
        auto declared = volumes.find(mount["name"].as<std::string>());
        ASSERT_NE(declared, volumes.end()) << name << " mounts an undeclared volume";
        YAML::Node volume = declared->second;
        if (volume["configMap"].IsDefined()) {
          YAML::Node map = Named("ConfigMap", volume["configMap"]["name"].as<std::string>());
          ASSERT_TRUE(map.IsDefined())
              << name << " mounts ConfigMap " << volume["configMap"]["name"] << ", not rendered";
          if (mount["mountPath"].as<std::string>() == "/etc/granary") {
            config_text = map["data"][absl::StrCat(service, ".yaml")].as<std::string>("");
          }
        }
        if (volume["secret"].IsDefined()) {
          EXPECT_EQ(volume["secret"]["secretName"].as<std::string>(), kSecretName) << name;
          EXPECT_EQ(mount["mountPath"].as<std::string>(), kSecretsDir) << name;
          for (YAML::Node item : volume["secret"]["items"]) {
            secret_keys.insert(item["key"].as<std::string>());
            EXPECT_EQ(item["path"].as<std::string>(), item["key"].as<std::string>()) << name;
          }
        }
      }
    }
    ASSERT_FALSE(config_text.empty())
        << name << " mounts no " << service << ".yaml at /etc/granary";
    const std::vector<std::string> command =
        deployment["spec"]["template"]["spec"]["containers"][0]["command"]
            .as<std::vector<std::string>>(std::vector<std::string>{});
    EXPECT_THAT(command, ::testing::ElementsAre(absl::StrCat("granary-", service), "--config",
                                                absl::StrCat("/etc/granary/", service, ".yaml")));
    // Each secret file the config names must be one of the keys the pod mounts.
    re2::StringPiece input(config_text);
    std::string file;
    int named = 0;
    while (RE2::FindAndConsume(&input, R"(/run/granary-secrets/([A-Za-z0-9._-]+))", &file)) {
      ++named;
      EXPECT_TRUE(secret_keys.count(file))
          << name << "'s config reads " << file << ", which its pod does not mount";
      std::ofstream(absl::StrCat(secrets, "/", file)) << std::string(64, 'a');
    }
    EXPECT_GE(named, 2) << name << "'s config names fewer secrets than expected";
    const std::string config = TempPath(absl::StrCat(GetParam(), "-", service, ".yaml"));
    std::ofstream(config) << absl::StrReplaceAll(config_text, {{kSecretsDir, secrets}});
    Result check = RunProgram(
        {absl::StrCat("services/", service, "/", service), "--check-config", "--config", config});
    EXPECT_EQ(check.status, 0) << name << ":\n" << check.output;
  }
}

// Serving, ingestion and the materializer answer on gRPC only the gateway's pods (policies are
// additive: every policy selecting their pods counts); the gateway is open to all.
TEST_P(OverlayTest, OnlyTheGatewayReachesTheInternalServices) {
  ASSERT_FALSE(Of("NetworkPolicy").empty()) << "no NetworkPolicy";
  YAML::Node gateway_labels =
      Named("Deployment", "granary-gateway")["spec"]["template"]["metadata"]["labels"];
  ASSERT_TRUE(gateway_labels.IsMap());
  const std::map<std::string, int> internal = {
      {"serving", 6571}, {"ingestion", 6572}, {"materializer", 6573}};
  for (const auto& [service, port] : internal) {
    YAML::Node deployment = Named("Deployment", absl::StrCat("granary-", service));
    YAML::Node labels = deployment["spec"]["template"]["metadata"]["labels"];
    int selecting = 0;
    for (YAML::Node policy : Of("NetworkPolicy")) {
      if (!Selects(policy["spec"]["podSelector"], labels)) continue;
      ++selecting;
      for (YAML::Node rule : policy["spec"]["ingress"]) {
        bool covers_port = !rule["ports"].IsDefined();
        for (YAML::Node p : rule["ports"]) covers_port |= p["port"].as<int>(0) == port;
        if (!covers_port) continue;
        ASSERT_TRUE(rule["from"].IsSequence())
            << policy["metadata"]["name"] << " opens " << service << ":" << port << " to all";
        for (YAML::Node peer : rule["from"]) {
          EXPECT_FALSE(peer["namespaceSelector"].IsDefined() || peer["ipBlock"].IsDefined())
              << policy["metadata"]["name"] << " opens " << service << ":" << port
              << " beyond the gateway";
          ASSERT_TRUE(peer["podSelector"].IsDefined()) << policy["metadata"]["name"];
          EXPECT_TRUE(Selects(peer["podSelector"], gateway_labels))
              << policy["metadata"]["name"] << " does not let the gateway reach " << service;
          // Nor any other of this namespace's pods (a selector broad enough for all of them
          // would pass the line above).
          for (YAML::Node other : Of("Deployment")) {
            if (other["metadata"]["name"].as<std::string>() == "granary-gateway") continue;
            EXPECT_FALSE(
                Selects(peer["podSelector"], other["spec"]["template"]["metadata"]["labels"]))
                << policy["metadata"]["name"] << " lets " << other["metadata"]["name"] << " reach "
                << service;
          }
        }
      }
    }
    EXPECT_GT(selecting, 0) << "no NetworkPolicy isolates " << service;
  }
}

TEST_P(OverlayTest, KedaScalesTheMaterializerOnItsDurableConsumers) {
  ASSERT_EQ(Of("ScaledObject").size(), 1u);
  YAML::Node scaled = Of("ScaledObject")[0];
  const std::string target = scaled["spec"]["scaleTargetRef"]["name"].as<std::string>("");
  EXPECT_EQ(target, "granary-materializer");
  EXPECT_TRUE(Named("Deployment", target).IsDefined()) << "no Deployment " << target;
  EXPECT_GE(scaled["spec"]["minReplicaCount"].as<int>(0), 1)
      << "the materializer also serves gRPC: it must not scale to zero";
  std::set<std::string> consumers;
  for (YAML::Node trigger : scaled["spec"]["triggers"]) {
    EXPECT_EQ(trigger["type"].as<std::string>(), "nats-jetstream");
    YAML::Node m = trigger["metadata"];
    consumers.insert(
        absl::StrCat(m["stream"].as<std::string>(""), "/", m["consumer"].as<std::string>("")));
    EXPECT_EQ(m["account"].as<std::string>(""), "$G");
    EXPECT_GT(std::stoi(m["lagThreshold"].as<std::string>("0")), 0);
    // KEDA reads it from its own namespace: the full name of this overlay's NATS.
    EXPECT_EQ(m["natsServerMonitoringEndpoint"].as<std::string>(""),
              absl::StrCat("nats.", Namespace(), ".svc.cluster.local:8222"));
  }
  // libs/bus/streams.h: the push stream's two writers and the task queue's runner.
  for (const char* wanted :
       {"GRANARY_PUSH/online-writer", "GRANARY_PUSH/offline-writer", "GRANARY_TASKS/task-runner"}) {
    EXPECT_TRUE(consumers.count(wanted)) << "no trigger on " << wanted;
  }
}

TEST_P(OverlayTest, HpasAndPdbsPointAtExistingDeployments) {
  std::set<std::string> scaled;
  for (YAML::Node hpa : Of("HorizontalPodAutoscaler")) {
    EXPECT_EQ(hpa["apiVersion"].as<std::string>(), "autoscaling/v2");
    YAML::Node ref = hpa["spec"]["scaleTargetRef"];
    EXPECT_EQ(ref["kind"].as<std::string>(""), "Deployment");
    const std::string name = ref["name"].as<std::string>("");
    EXPECT_TRUE(Named("Deployment", name).IsDefined()) << "HPA targets missing " << name;
    EXPECT_LE(hpa["spec"]["minReplicas"].as<int>(1), hpa["spec"]["maxReplicas"].as<int>(0));
    EXPECT_EQ(hpa["spec"]["metrics"][0]["resource"]["name"].as<std::string>(""), "cpu");
    scaled.insert(name);
  }
  EXPECT_EQ(scaled, (std::set<std::string>{"granary-gateway", "granary-serving"}))
      << "HPAs on CPU for serving and the gateway only (KEDA scales the materializer)";

  std::set<std::string> covered;
  for (YAML::Node pdb : Of("PodDisruptionBudget")) {
    EXPECT_EQ(pdb["apiVersion"].as<std::string>(), "policy/v1");
    int matched = 0;
    for (YAML::Node deployment : Of("Deployment")) {
      if (Selects(pdb["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])) {
        ++matched;
        covered.insert(deployment["metadata"]["name"].as<std::string>());
      }
    }
    EXPECT_EQ(matched, 1) << pdb["metadata"]["name"] << " selects " << matched << " Deployments";
  }
  for (const char* service : kServices) {
    EXPECT_TRUE(covered.count(absl::StrCat("granary-", service))) << "no PDB for " << service;
  }
}

// What the gateway's kubernetes auth mode calls: TokenReview (cluster-wide) and the
// RoleBindings of its namespace, bound to the service account its pods run as.
TEST_P(OverlayTest, TheGatewayHasTheRbacOfItsKubernetesMode) {
  YAML::Node pod = Named("Deployment", "granary-gateway")["spec"]["template"]["spec"];
  const std::string account = pod["serviceAccountName"].as<std::string>("");
  ASSERT_EQ(account, "granary-gateway");
  EXPECT_TRUE(Named("ServiceAccount", account).IsDefined());
  auto grants = [](YAML::Node role, const std::string& resource, const std::string& verb) {
    for (YAML::Node rule : role["rules"]) {
      bool has_resource = false, has_verb = false;
      for (YAML::Node r : rule["resources"]) has_resource |= r.as<std::string>() == resource;
      for (YAML::Node v : rule["verbs"]) has_verb |= v.as<std::string>() == verb;
      if (has_resource && has_verb) return true;
    }
    return false;
  };
  auto bound = [&](const std::string& binding_kind, const std::string& role_kind,
                   const std::string& resource, const std::string& verb) {
    for (YAML::Node binding : Of(binding_kind)) {
      YAML::Node role = Named(role_kind, binding["roleRef"]["name"].as<std::string>(""));
      if (binding["roleRef"]["kind"].as<std::string>("") != role_kind || !role.IsDefined() ||
          !grants(role, resource, verb)) {
        continue;
      }
      for (YAML::Node subject : binding["subjects"]) {
        if (subject["kind"].as<std::string>("") == "ServiceAccount" &&
            subject["name"].as<std::string>("") == account &&
            subject["namespace"].as<std::string>(Namespace()) == Namespace()) {
          return true;
        }
      }
    }
    return false;
  };
  EXPECT_TRUE(bound("ClusterRoleBinding", "ClusterRole", "tokenreviews", "create"));
  EXPECT_TRUE(bound("RoleBinding", "Role", "rolebindings", "list"));
  // Only the gateway's pods carry a service-account token.
  for (YAML::Node deployment : Of("Deployment")) {
    if (deployment["metadata"]["name"].as<std::string>() == "granary-gateway") continue;
    EXPECT_FALSE(
        deployment["spec"]["template"]["spec"]["automountServiceAccountToken"].as<bool>(true))
        << deployment["metadata"]["name"];
  }
}

TEST_P(OverlayTest, ReplicasAndNamespaceAreTheOverlays) {
  const std::map<std::string, int> replicas =
      GetParam() == "prod" ? std::map<std::string, int>{{"granary-registry", 2},
                                                        {"granary-serving", 3},
                                                        {"granary-ingestion", 2},
                                                        {"granary-materializer", 2},
                                                        {"granary-gateway", 2}}
                           : std::map<std::string, int>{{"granary-registry", 1},
                                                        {"granary-serving", 1},
                                                        {"granary-ingestion", 1},
                                                        {"granary-materializer", 1},
                                                        {"granary-gateway", 1}};
  // What an autoscaler sizes has no count of its own (an apply would reset the autoscaler's):
  // its minimum is the count.
  const std::map<std::string, std::pair<std::string, std::string>> autoscaled = {
      {"granary-serving", {"HorizontalPodAutoscaler", "minReplicas"}},
      {"granary-gateway", {"HorizontalPodAutoscaler", "minReplicas"}},
      {"granary-materializer", {"ScaledObject", "minReplicaCount"}}};
  for (const auto& [name, count] : replicas) {
    YAML::Node spec = Named("Deployment", name)["spec"];
    auto it = autoscaled.find(name);
    if (it == autoscaled.end()) {
      EXPECT_EQ(spec["replicas"].as<int>(-1), count) << name;
      continue;
    }
    EXPECT_FALSE(spec["replicas"]) << name << " is sized by its autoscaler";
    EXPECT_EQ(Named(it->second.first, name)["spec"][it->second.second].as<int>(-1), count) << name;
  }
  const std::set<std::string> cluster_scoped = {"ClusterRole", "ClusterRoleBinding"};
  for (YAML::Node object : objects_) {
    const std::string kind = object["kind"].as<std::string>();
    if (cluster_scoped.count(kind)) continue;
    EXPECT_EQ(object["metadata"]["namespace"].as<std::string>(""), Namespace())
        << kind << " " << object["metadata"]["name"];
  }
  if (GetParam() == "prod") {
    for (YAML::Node deployment : Of("Deployment")) {
      EXPECT_THAT(
          deployment["spec"]["template"]["spec"]["containers"][0]["image"].as<std::string>(""),
          ::testing::MatchesRegex("granary:[0-9]+\\.[0-9]+\\.[0-9]+"))
          << "prod runs a released image";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Overlays, OverlayTest, ::testing::Values("dev", "prod"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace granary::testing
