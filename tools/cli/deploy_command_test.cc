// `granary deploy`'s two renderings: the prod overlay with deploy.yaml's namespace, image,
// replicas and backends (loopback ones, the local stack's, left to the overlay with a note),
// and the compose override that docker-compose merges with compose.yaml.
#include "tools/cli/deploy_command.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "tools/cli/program.h"

namespace granary::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

DeployConfig Config() {
  DeployConfig c;
  c.path = "deploy.yaml";
  c.target = "kubernetes";
  c.kubernetes_namespace = "2024";  // reads as a number unless quoted
  c.image = "registry.example/granary:1.2";
  c.replicas = {{"serving", 5}, {"gateway", 1}, {"ingestion", 3}};
  redis::RedisOptions redis;
  redis.host = "redis.infra.svc";
  redis.port = 6380;
  redis.user = "granary-serving";
  c.serving_redis = redis;
  pg::PgOptions local;  // the local stack's: loopback
  local.host = "127.0.0.1";
  local.user = "granary_registry";
  c.registry_postgres = local;
  bus::NatsOptions nats;
  nats.url = "nats://nats.infra.svc:4222";
  nats.user = "granary-materializer";
  c.nats["materializer"] = nats;
  trace::TracingConfig tracing;
  tracing.otlp_endpoint = "otel-collector.observability:4317";
  tracing.sample_ratio = 0.05;
  tracing.otlp_tls = true;
  tracing.export_interval = absl::Seconds(2);
  tracing.max_batch = 100;
  tracing.max_queue = 1000;
  tracing.export_timeout = absl::Seconds(3);
  c.tracing = tracing;
  return c;
}

class DeployCommandTest : public ::testing::Test {
 protected:
  // The overlay rendered as deploy renders it, from a copy: kustomize does not read a
  // kustomization.yaml that is a symbolic link, as runfiles are.
  std::string Render(const std::string& overlay) {
    auto dir = testing::TempDir::Create("k8s");
    EXPECT_OK(dir);
    const fs::path copy = fs::path(dir->path()) / "k8s";
    fs::copy("deploy/k8s", copy, fs::copy_options::recursive);
    dirs_.push_back(std::move(*dir));
    absl::StatusOr<std::string> rendered =
        CaptureProgram({"kubectl", "kustomize", (copy / "overlays" / overlay).string()});
    EXPECT_OK(rendered);
    return rendered.ok() ? *rendered : "";
  }
  std::vector<testing::TempDir> dirs_;
};

TEST_F(DeployCommandTest, TheOverlayGetsTheNamespaceImageReplicasAndBackends) {
  std::ostringstream notes;
  ASSERT_OK_AND_ASSIGN(std::string manifests, CustomizeManifests(Render("prod"), Config(), notes));
  std::vector<YAML::Node> docs = YAML::LoadAll(manifests);
  std::map<std::string, YAML::Node> by_name;  // kind/name
  for (const YAML::Node& doc : docs) {
    const std::string kind = doc["kind"].as<std::string>();
    by_name[kind + "/" + doc["metadata"]["name"].as<std::string>()] = doc;
    if (kind != "ClusterRole" && kind != "ClusterRoleBinding") {
      EXPECT_EQ(doc["metadata"]["namespace"].as<std::string>(""), "2024") << kind;
      EXPECT_EQ(doc["metadata"]["namespace"].Tag(), "!") << kind << ": 2024 must stay a string";
    }
    if (kind == "Deployment") {
      for (const YAML::Node& c : doc["spec"]["template"]["spec"]["containers"]) {
        EXPECT_EQ(c["image"].as<std::string>(), "registry.example/granary:1.2");
      }
    }
  }
  // An autoscaler sizes serving, the gateway and the materializer: their Deployments carry no
  // count (one would reset the autoscaler's at every apply); deploy.yaml's is its minimum.
  for (const char* service : {"serving", "gateway", "materializer"}) {
    EXPECT_FALSE(by_name[absl::StrCat("Deployment/granary-", service)]["spec"]["replicas"])
        << service;
  }
  EXPECT_EQ(by_name["Deployment/granary-ingestion"]["spec"]["replicas"].as<int>(), 3);
  EXPECT_EQ(by_name["Deployment/granary-registry"]["spec"]["replicas"].as<int>(), 2);  // overlay's
  YAML::Node hpa = by_name["HorizontalPodAutoscaler/granary-serving"];
  ASSERT_TRUE(hpa);
  EXPECT_EQ(hpa["spec"]["minReplicas"].as<int>(), 5);
  EXPECT_GE(hpa["spec"]["maxReplicas"].as<int>(), 5);
  // What the API server takes only as strings stays quoted: annotations, KEDA's metadata.
  for (const char* service : {"serving", "gateway"}) {
    YAML::Node annotations = by_name[absl::StrCat("Deployment/granary-", service)]["spec"]
                                    ["template"]["metadata"]["annotations"];
    ASSERT_TRUE(annotations.IsMap()) << service;
    int checked = 0;
    for (const auto& kv : annotations) {
      const std::string value = kv.second.Scalar();
      if (value != "true" && value != "false" &&
          value.find_first_not_of("0123456789") != std::string::npos) {
        continue;  // a plain scalar that is a string anyway
      }
      ++checked;
      EXPECT_EQ(kv.second.Tag(), "!") << kv.first.as<std::string>() << " is not a string";
    }
    EXPECT_GE(checked, 2) << service;  // prometheus.io/scrape and prometheus.io/port
  }
  // Cluster-wide, so named for its namespace: another namespace's deployment keeps its own.
  YAML::Node binding = by_name["ClusterRoleBinding/granary-gateway-tokenreview-2024"];
  ASSERT_TRUE(binding);
  EXPECT_EQ(binding["subjects"][0]["namespace"].as<std::string>(), "2024");
  YAML::Node keda = by_name["ScaledObject/granary-materializer"];
  ASSERT_TRUE(keda);
  for (const YAML::Node& trigger : keda["spec"]["triggers"]) {
    EXPECT_EQ(trigger["metadata"]["natsServerMonitoringEndpoint"].as<std::string>(),
              "nats.infra.svc:8222");
    EXPECT_EQ(trigger["metadata"]["lagThreshold"].Tag(), "!");
  }
  // Backends: serving's Redis from deploy.yaml; the registry's PostgreSQL is the local
  // stack's (loopback), so the overlay's address stays, and the operator is told.
  std::string serving, registry, serving_map;
  for (const auto& [key, doc] : by_name) {
    if (key.rfind("ConfigMap/granary-serving-config", 0) == 0) {
      serving = doc["data"]["serving.yaml"].as<std::string>();
      serving_map = doc["metadata"]["name"].as<std::string>();
    }
    if (key.rfind("ConfigMap/granary-registry-config", 0) == 0) {
      registry = doc["data"]["registry.yaml"].as<std::string>();
    }
  }
  // A changed config is a ConfigMap of another name, which the Deployment mounts: it rolls.
  EXPECT_THAT(Render("prod"), ::testing::Not(HasSubstr(serving_map)));
  bool mounted = false;
  for (const YAML::Node& volume :
       by_name["Deployment/granary-serving"]["spec"]["template"]["spec"]["volumes"]) {
    mounted = mounted || volume["configMap"]["name"].as<std::string>("") == serving_map;
  }
  EXPECT_TRUE(mounted) << serving_map;
  YAML::Node serving_config = YAML::Load(serving);
  EXPECT_EQ(serving_config["redis"]["address"].as<std::string>(), "redis.infra.svc:6380");
  EXPECT_EQ(serving_config["redis"]["user"].as<std::string>(), "granary-serving");
  // The password is still the mounted Secret's file, never a value.
  EXPECT_TRUE(serving_config["redis"]["password"]["file"]);
  YAML::Node registry_config = YAML::Load(registry);
  EXPECT_THAT(registry_config["postgres"]["address"].as<std::string>(),
              ::testing::Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(notes.str(), HasSubstr("PostgreSQL is at 127.0.0.1:5432"));
  // Every service exports its spans as deploy.yaml says.
  int configs = 0;
  for (const auto& [key, doc] : by_name) {
    if (key.rfind("ConfigMap/granary-", 0) != 0) continue;
    for (const auto& entry : doc["data"]) {
      YAML::Node config = YAML::Load(entry.second.as<std::string>());
      if (!config["server"]) continue;
      ++configs;
      YAML::Node tracing = config["server"]["tracing"];
      const std::string where = key + " " + entry.first.as<std::string>();
      EXPECT_EQ(tracing["otlp_endpoint"].as<std::string>(""), "otel-collector.observability:4317")
          << where;
      EXPECT_EQ(tracing["sample_ratio"].as<double>(0), 0.05) << where;
      EXPECT_TRUE(tracing["otlp_tls"].as<bool>(false)) << where;
      EXPECT_EQ(tracing["export_interval"].as<std::string>(""), "2s") << where;
      EXPECT_EQ(tracing["max_batch"].as<int>(0), 100) << where;
      EXPECT_EQ(tracing["max_queue"].as<int>(0), 1000) << where;
      EXPECT_EQ(tracing["export_timeout"].as<std::string>(""), "3s") << where;
      // The rest of server: is the overlay's.
      EXPECT_TRUE(config["server"]["grpc_address"]) << where;
    }
  }
  EXPECT_EQ(configs, 5);
}

TEST_F(DeployCommandTest, DockerComposeAcceptsTheOverrideWithComposeYaml) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("compose"));
  const std::string path = dir.path() + "/compose.override.yaml";
  std::ofstream(path) << ComposeOverride(Config());
  absl::StatusOr<std::string> merged =
      CaptureProgram({"docker-compose", "-f", "compose.yaml", "-f", path, "config"});
  ASSERT_OK(merged);
  YAML::Node services = YAML::Load(*merged)["services"];
  EXPECT_EQ(services["serving"]["image"].as<std::string>(), "registry.example/granary:1.2");
  EXPECT_EQ(services["serving"]["deploy"]["replicas"].as<int>(), 5);
  EXPECT_FALSE(services["registry"]["deploy"]["replicas"]);  // not in deploy.yaml
}

}  // namespace
}  // namespace granary::cli
