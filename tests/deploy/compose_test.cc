// compose.yaml as Debian's docker-compose sees it: `docker-compose config` accepts it, every
// backend, service and observability piece is there, each Granary service has a health check
// that asks its own gRPC port and starts only after what it needs is healthy, only the gateway
// is published, every file mounted from the repository exists, each service's config file is
// one its binary accepts with the secrets deploy/compose/secrets-init.sh makes, Prometheus and
// the collector scrape the metrics ports the configs open, and the image installs every
// library the binaries link. No container is started: base images cannot be pulled here.
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"
#include <sys/wait.h>

#include "tests/deploy/programs.h"

namespace granary::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kCompose[] = "compose.yaml";
constexpr char kSecretsDir[] = "/run/granary-secrets";
const char* const kServices[] = {"registry", "serving", "ingestion", "materializer", "gateway"};

// The port of a host:port.
std::string PortOf(const std::string& address) { return address.substr(address.rfind(':') + 1); }

class ComposeTest : public ::testing::Test {
 protected:
  // docker-compose's own reading of the file (anchors merged, paths made absolute), parsed
  // once for every test.
  static void SetUpTestSuite() {
    const std::string rendered = TempPath("compose.rendered.yaml");
    Result config = RunProgram({FindProgram("docker-compose"), "-f", kCompose, "config"}, rendered);
    config_status_ = new Result(config);
    if (config.status == 0) config_ = new YAML::Node(YAML::Load(ReadFile(rendered)));
  }
  static void TearDownTestSuite() {
    delete config_;
    delete config_status_;
  }

  void SetUp() override {
    ASSERT_EQ(config_status_->status, 0) << "docker-compose config refused " << kCompose << ":\n"
                                         << config_status_->output;
    ASSERT_TRUE((*config_)["services"].IsMap());
  }

  static YAML::Node Service(const std::string& name) { return (*config_)["services"][name]; }

  // Mounts of a service as (source, target); a bind mount's source is an absolute path.
  static std::vector<std::pair<std::string, std::string>> Mounts(const std::string& service) {
    std::vector<std::pair<std::string, std::string>> mounts;
    for (YAML::Node volume : Service(service)["volumes"]) {
      std::vector<std::string> parts = absl::StrSplit(volume.as<std::string>(), ':');
      if (parts.size() >= 2) mounts.emplace_back(parts[0], parts[1]);
    }
    return mounts;
  }

  // The file mounted at `target` in `service`, "" when there is none.
  static std::string MountedFrom(const std::string& service, const std::string& target) {
    for (const auto& [source, at] : Mounts(service)) {
      if (at == target) return source;
    }
    return "";
  }

  static Result* config_status_;
  static YAML::Node* config_;
};

Result* ComposeTest::config_status_ = nullptr;
YAML::Node* ComposeTest::config_ = nullptr;

TEST_F(ComposeTest, EveryPieceOfTheStackIsThere) {
  for (const char* name :
       {"secrets", "redis", "postgres", "nats", "registry", "serving", "ingestion", "materializer",
        "gateway", "prometheus", "alertmanager", "grafana", "otel-collector"}) {
    EXPECT_TRUE(Service(name).IsMap()) << "no service " << name << " in " << kCompose;
  }
  EXPECT_EQ(Service("redis")["image"].as<std::string>(""), "redis:7");
  EXPECT_EQ(Service("postgres")["image"].as<std::string>(""), "postgres:15");
  EXPECT_TRUE(absl::StartsWith(Service("nats")["image"].as<std::string>(""), "nats:2.9"));
  for (const char* name : kServices) {
    EXPECT_EQ(Service(name)["image"].as<std::string>(""), "granary:latest") << name;
    EXPECT_EQ(Service(name)["build"]["dockerfile"].as<std::string>(""), "deploy/docker/Dockerfile")
        << name;
  }
}

// Each service's health check asks its own gRPC port (the one its config listens on), so
// that `healthy` means that service is SERVING.
TEST_F(ComposeTest, EachGranaryServiceChecksItsOwnGrpcHealth) {
  for (const char* name : kServices) {
    const std::string config_path = MountedFrom(name, absl::StrCat("/etc/granary/", name, ".yaml"));
    ASSERT_FALSE(config_path.empty()) << name << " has no config mounted";
    YAML::Node config = YAML::LoadFile(config_path);
    const std::string grpc = config["server"]["grpc_address"].as<std::string>("");
    EXPECT_TRUE(absl::StartsWith(grpc, "0.0.0.0:")) << name << " must listen beyond loopback";
    YAML::Node test = Service(name)["healthcheck"]["test"];
    ASSERT_TRUE(test.IsSequence()) << name << " has no health check";
    std::vector<std::string> words;
    for (YAML::Node word : test) words.push_back(word.as<std::string>());
    EXPECT_THAT(words, ::testing::ElementsAre("CMD", "granary", "health",
                                              absl::StrCat("127.0.0.1:", PortOf(grpc))))
        << name;
    // The image's own HEALTHCHECK reads the same address from the environment.
    EXPECT_EQ(Service(name)["environment"]["GRANARY_HEALTH_ADDRESS"].as<std::string>(""),
              absl::StrCat("127.0.0.1:", PortOf(grpc)))
        << name;
    const std::vector<std::string> command =
        Service(name)["command"].as<std::vector<std::string>>(std::vector<std::string>{});
    EXPECT_THAT(command, ::testing::ElementsAre(absl::StrCat("granary-", name), "--config",
                                                absl::StrCat("/etc/granary/", name, ".yaml")));
  }
}

// The probe the health checks run is a command the CLI has: with nothing listening it exits
// 1, "not serving", where an unknown command exits otherwise (CLI11's usage errors).
// NATS's start script turns the secret files into the variables deploy/nats/nats.conf reads,
// and nats-server accepts them even when a password reads as a number (12345e1234 is one to
// a config parser; generated hex passwords are like that one time in fourteen).
TEST(NatsStartTest, PasswordsThatLookLikeNumbersStillStartTheServer) {
  const std::string secrets = TempPath("nats-secrets");
  fs::create_directories(secrets);
  for (const char* service : {"registry", "serving", "ingestion", "materializer", "gateway"}) {
    std::ofstream(absl::StrCat(secrets, "/nats-", service)) << "12345e1234";
  }
  Result check = RunProgram(
      {"/bin/sh", "deploy/compose/nats-start.sh", "-t"}, "",
      {absl::StrCat("GRANARY_SECRETS_DIR=", secrets), "GRANARY_NATS_CONF=deploy/nats/nats.conf"});
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_THAT(check.output, ::testing::HasSubstr("is valid"));
}

TEST_F(ComposeTest, TheCliHasTheHealthCommand) {
  Result probe = RunProgram({"tools/cli/granary", "health", "127.0.0.1:1"});
  EXPECT_TRUE(WIFEXITED(probe.status) && WEXITSTATUS(probe.status) == 1)
      << "granary health 127.0.0.1:1 ended with status " << probe.status << ":\n"
      << probe.output;
}

// A condition compose can reach: service_healthy only on a service with a health check,
// service_completed_successfully only on a one-shot service; and a service starts after every
// backend its config names.
TEST_F(ComposeTest, StartOrderWaitsForWhatEachServiceNeeds) {
  for (auto entry : (*config_)["services"]) {
    const std::string name = entry.first.as<std::string>();
    for (auto dependency : entry.second["depends_on"]) {
      const std::string on = dependency.first.as<std::string>();
      const std::string condition = dependency.second["condition"].as<std::string>("");
      ASSERT_TRUE(Service(on).IsMap()) << name << " depends on unknown " << on;
      if (condition == "service_healthy") {
        EXPECT_TRUE(Service(on)["healthcheck"]["test"].IsDefined())
            << name << " waits for " << on << " to be healthy, which has no health check";
      } else if (condition == "service_completed_successfully") {
        EXPECT_EQ(Service(on)["restart"].as<std::string>("no"), "no")
            << name << " waits for " << on << " to complete, which restarts";
      }
    }
  }
  const std::map<std::string, std::vector<std::string>> needs = {
      {"registry", {"postgres", "nats"}},
      {"serving", {"registry", "redis", "nats"}},
      {"ingestion", {"registry", "nats"}},
      {"materializer", {"registry", "redis", "postgres", "nats"}},
      {"gateway", {"registry", "serving", "ingestion", "materializer"}},
      {"redis", {"secrets"}},
      {"postgres", {"secrets"}},
      {"nats", {"secrets"}}};
  for (const auto& [name, wanted] : needs) {
    for (const std::string& on : wanted) {
      EXPECT_TRUE(Service(name)["depends_on"][on]["condition"].IsDefined())
          << name << " does not wait for " << on;
    }
  }
}

TEST_F(ComposeTest, OnlyTheGatewayIsPublished) {
  for (const char* name : kServices) {
    if (std::string(name) == "gateway") continue;
    EXPECT_FALSE(Service(name)["ports"].IsDefined()) << name << " publishes ports";
  }
  std::set<std::string> published;
  for (YAML::Node port : Service("gateway")["ports"]) {
    published.insert(port["target"].as<std::string>(""));
  }
  // gRPC, HTTP/JSON, and the same HTTP door for browsers (which refuse 6566).
  EXPECT_EQ(published, (std::set<std::string>{"6565", "6566", "6567"}));
  for (const char* name : {"redis", "postgres", "nats"}) {
    EXPECT_FALSE(Service(name)["ports"].IsDefined()) << name << " publishes ports";
  }
}

// A bind mount whose source is missing would start the container with an empty folder in
// its place; a source outside the repository would not be there on another machine.
TEST_F(ComposeTest, EveryMountedFileExistsInTheRepository) {
  const std::string root = fs::current_path().string();
  std::set<std::string> volumes;
  for (auto volume : (*config_)["volumes"]) volumes.insert(volume.first.as<std::string>());
  int binds = 0;
  for (auto entry : (*config_)["services"]) {
    const std::string name = entry.first.as<std::string>();
    for (const auto& [source, target] : Mounts(name)) {
      if (!absl::StartsWith(source, "/")) {
        EXPECT_TRUE(volumes.count(source)) << name << " mounts undeclared volume " << source;
        continue;
      }
      ++binds;
      EXPECT_TRUE(absl::StartsWith(source, root + "/"))
          << name << " mounts " << source << " from outside the repository";
      EXPECT_TRUE(fs::exists(source)) << name << " mounts " << source << ", which does not exist";
    }
  }
  EXPECT_GE(binds, 15) << "fewer bind mounts than compose.yaml has";
  for (const char* name : {"redis", "postgres", "nats", "registry", "serving", "ingestion",
                           "materializer", "gateway"}) {
    EXPECT_EQ(MountedFrom(name, kSecretsDir), "granary-secrets")
        << name << " does not mount the granary-secrets volume at " << kSecretsDir;
  }
  // The admins' passwords only where they are used: never in a Granary service.
  for (auto entry : (*config_)["services"]) {
    const std::string name = entry.first.as<std::string>();
    bool admin = false;
    for (const auto& [source, target] : Mounts(name))
      admin = admin || source == "granary-admin-secrets";
    const bool allowed = name == "secrets" || name == "postgres" || name == "grafana";
    EXPECT_EQ(admin, allowed) << name;
  }
}

// Each config is one its binary accepts, with the secrets secrets-init.sh makes: a key
// renamed in a service, or a secret file the script does not create, fails here.
TEST_F(ComposeTest, EveryServiceAcceptsItsConfigWithTheSecretsThatAreMade) {
  const std::string secrets = TempPath("secrets");
  const std::string script = MountedFrom("secrets", "/etc/granary/secrets-init.sh");
  ASSERT_FALSE(script.empty());
  const std::vector<std::string> env = {
      absl::StrCat("GRANARY_SECRETS_DIR=", secrets),
      absl::StrCat("GRANARY_ADMIN_SECRETS_DIR=", secrets, "-admin")};
  // A stack from before the admin volume: its admin password moves there, unchanged.
  fs::create_directories(secrets);
  std::ofstream(secrets + "/postgres-admin") << "old-admin-password";
  Result init = RunProgram({"/bin/sh", script}, "", env);
  ASSERT_EQ(init.status, 0) << init.output;
  // A second run keeps what exists.
  const std::string jwt = ReadFile(secrets + "/jwt.secret");
  EXPECT_EQ(jwt.size(), 64u);
  ASSERT_EQ(RunProgram({"/bin/sh", script}, "", env).status, 0);
  EXPECT_EQ(ReadFile(secrets + "-admin/postgres-admin"), "old-admin-password");
  EXPECT_EQ(ReadFile(secrets + "-admin/grafana-admin").size(), 64u);
  EXPECT_FALSE(fs::exists(secrets + "/postgres-admin"));
  EXPECT_EQ(ReadFile(secrets + "/jwt.secret"), jwt);
  for (const char* name : kServices) {
    const std::string source = MountedFrom(name, absl::StrCat("/etc/granary/", name, ".yaml"));
    const std::string text = ReadFile(source);
    ASSERT_THAT(text, ::testing::HasSubstr(kSecretsDir)) << source;
    const std::string config = TempPath(absl::StrCat(name, ".yaml"));
    std::ofstream(config) << absl::StrReplaceAll(text, {{kSecretsDir, secrets}});
    Result check = RunProgram(
        {absl::StrCat("services/", name, "/", name), "--check-config", "--config", config});
    EXPECT_EQ(check.status, 0) << source << ":\n" << check.output;
  }
}

// Prometheus (and the collector) scrape each service where its config serves /metrics, with
// the job and service labels the rules and the dashboard select on; promtool accepts the
// config with the rules where compose mounts them.
TEST_F(ComposeTest, PrometheusAndTheCollectorScrapeEveryService) {
  const std::string prometheus_yml = MountedFrom("prometheus", "/etc/prometheus/prometheus.yml");
  const std::string rules = MountedFrom("prometheus", "/etc/prometheus/rules");
  ASSERT_FALSE(prometheus_yml.empty());
  ASSERT_FALSE(rules.empty());
  std::map<std::string, std::string> targets;  // host:port -> service label
  for (YAML::Node job : YAML::LoadFile(prometheus_yml)["scrape_configs"]) {
    EXPECT_EQ(job["job_name"].as<std::string>(""), "granary");
    for (YAML::Node group : job["static_configs"]) {
      for (YAML::Node target : group["targets"]) {
        targets[target.as<std::string>()] = group["labels"]["service"].as<std::string>("");
      }
    }
  }
  const std::string collector =
      ReadFile(MountedFrom("otel-collector", "/etc/otelcol-contrib/config.yaml"));
  for (const char* name : kServices) {
    YAML::Node config =
        YAML::LoadFile(MountedFrom(name, absl::StrCat("/etc/granary/", name, ".yaml")));
    const std::string target =
        absl::StrCat(name, ":", PortOf(config["server"]["metrics_address"].as<std::string>("")));
    EXPECT_EQ(targets[target], name) << "Prometheus does not scrape " << target;
    EXPECT_THAT(collector, ::testing::HasSubstr(absl::StrCat("\"", target, "\"")))
        << "the collector does not scrape " << target;
  }
  // As mounted: prometheus.yml next to rules/.
  const fs::path dir = TempPath("prometheus");
  fs::create_directories(dir);
  fs::copy_file(prometheus_yml, dir / "prometheus.yml", fs::copy_options::overwrite_existing);
  fs::copy(rules, dir / "rules",
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  Result check = RunProgram({"promtool", "check", "config", (dir / "prometheus.yml").string()});
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_THAT(check.output, ::testing::HasSubstr("1 rule files found"));
}

// Every service sends its spans to the collector's OTLP/gRPC receiver.
TEST_F(ComposeTest, EveryServiceExportsItsSpansToTheCollector) {
  YAML::Node collector =
      YAML::LoadFile(MountedFrom("otel-collector", "/etc/otelcol-contrib/config.yaml"));
  const std::string receiver =
      collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].as<std::string>("");
  ASSERT_FALSE(receiver.empty());
  bool traces_received = false;
  for (YAML::Node r : collector["service"]["pipelines"]["traces"]["receivers"]) {
    traces_received = traces_received || r.as<std::string>("") == "otlp";
  }
  EXPECT_TRUE(traces_received) << "the traces pipeline does not take OTLP";
  for (const char* name : kServices) {
    YAML::Node config =
        YAML::LoadFile(MountedFrom(name, absl::StrCat("/etc/granary/", name, ".yaml")));
    EXPECT_EQ(config["server"]["tracing"]["otlp_endpoint"].as<std::string>(""),
              absl::StrCat("otel-collector:", PortOf(receiver)))
        << name;
  }
}

// The shared libraries the binaries need themselves (DT_NEEDED), each with the Debian
// packages that ship it: {soname -> packages}, empty for a library no package has.
std::map<std::string, std::set<std::string>> PackagesLinkedBy(
    const std::vector<std::string>& binaries, std::string* problems) {
  std::map<std::string, std::set<std::string>> owners;
  for (const std::string& binary : binaries) {
    const std::string dynamic = TempPath("dynamic.txt");
    Result readelf = RunProgram({"readelf", "-d", binary}, dynamic);
    if (readelf.status != 0) {
      absl::StrAppend(problems, binary, ": readelf failed: ", readelf.output, "\n");
      continue;
    }
    for (absl::string_view line : absl::StrSplit(ReadFile(dynamic), '\n')) {
      const size_t open = line.find('[');
      const size_t close = line.find(']');
      if (!absl::StrContains(line, "(NEEDED)") || open == absl::string_view::npos ||
          close == absl::string_view::npos) {
        continue;
      }
      owners[std::string(line.substr(open + 1, close - open - 1))];
    }
  }
  // One dpkg query for all of them: each takes a while.
  std::vector<std::string> query = {"dpkg", "-S"};
  for (const auto& [soname, packages] : owners) {
    query.push_back(absl::StrCat("*/x86_64-linux-gnu/", soname));
  }
  const std::string found = TempPath("owners.txt");
  RunProgram(query, found);  // exits 1 when some path has no package: seen below
  for (absl::string_view line : absl::StrSplit(ReadFile(found), '\n', absl::SkipEmpty())) {
    // "libfoo1:amd64: /usr/lib/x86_64-linux-gnu/libfoo.so.1", or "a, b: path" when several
    // packages ship the path.
    const size_t colon = line.find(": /");
    if (colon == absl::string_view::npos) continue;
    const std::string soname(line.substr(line.rfind('/') + 1));
    if (!owners.count(soname)) continue;
    for (absl::string_view package : absl::StrSplit(line.substr(0, colon), ", ")) {
      owners[soname].insert(std::string(package.substr(0, package.find(':'))));
    }
  }
  return owners;
}

// A library the binaries start to link, not added to the runtime stage, would make every
// container exit at start with "cannot open shared object file".
TEST_F(ComposeTest, TheImageInstallsEveryLibraryTheBinariesLink) {
  const std::string dockerfile = ReadFile("deploy/docker/Dockerfile");
  const size_t runtime = dockerfile.find("FROM debian:12-slim");
  ASSERT_NE(runtime, std::string::npos) << "no debian:12-slim runtime stage";
  std::set<std::string> installed;
  for (absl::string_view word : absl::StrSplit(dockerfile.substr(runtime), absl::ByAnyChar(" \n\\"),
                                               absl::SkipWhitespace())) {
    installed.insert(std::string(word));
  }
  // Essential in every Debian image, slim included.
  const std::set<std::string> essential = {"libc6", "libgcc-s1"};
  std::string problems;
  std::vector<std::string> binaries = {"tools/cli/granary"};
  for (const char* name : kServices) binaries.push_back(absl::StrCat("services/", name, "/", name));
  const std::map<std::string, std::set<std::string>> owners = PackagesLinkedBy(binaries, &problems);
  EXPECT_GE(owners.size(), 20u) << "the binaries link fewer libraries than expected";
  for (const auto& [soname, packages] : owners) {
    if (packages.empty()) absl::StrAppend(&problems, "no package ships ", soname, "\n");
    for (const std::string& package : packages) {
      if (!installed.count(package) && !essential.count(package)) {
        absl::StrAppend(&problems, soname, " is in ", package,
                        ", which the runtime stage does not install\n");
      }
    }
  }
  EXPECT_TRUE(problems.empty()) << problems;
}

// The gateway stops at start without its UI's files: the image must hold them where it looks
// (ui_files.h), and the Debian packages of the browser libraries it serves.
TEST_F(ComposeTest, TheImageHoldsTheUiAndItsBrowserLibraries) {
  const std::string dockerfile = ReadFile("deploy/docker/Dockerfile");
  const std::string runtime = dockerfile.substr(dockerfile.find("FROM debian:12-slim"));
  EXPECT_THAT(runtime, ::testing::HasSubstr("COPY services/gateway/ui /usr/share/granary/ui"));
  for (const char* package : {"libjs-bootstrap5", "libjs-chart.js"}) {
    EXPECT_THAT(runtime, ::testing::HasSubstr(absl::StrCat(package, " \\"))) << package;
  }
}

}  // namespace
}  // namespace granary::testing
