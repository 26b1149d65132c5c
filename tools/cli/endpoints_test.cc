#include "tools/cli/endpoints.h"

#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;

std::string Write(const std::string& name, const std::string& text) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(EndpointsTest, EverythingGoesThroughTheLocalGatewayByDefault) {
  unsetenv("GRANARY_ENDPOINTS");
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints({}));
  EXPECT_EQ(e.gateway, "127.0.0.1:6565");
  EXPECT_EQ(e.registry, "127.0.0.1:6565");
  EXPECT_EQ(e.serving, "127.0.0.1:6565");
  EXPECT_EQ(e.materializer, "127.0.0.1:6565");
}

TEST(EndpointsTest, ServicesFollowTheGatewayWhereverItIsNamed) {
  unsetenv("GRANARY_ENDPOINTS");
  EndpointFlags flags;
  flags.overrides.gateway = "10.0.0.5:443";
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints(flags));
  EXPECT_EQ(e.ingestion, "10.0.0.5:443");
  flags.file = Write("gateway.yaml", "endpoints: {gateway: 10.0.0.6:443}\n");
  flags.overrides.gateway.clear();
  ASSERT_OK_AND_ASSIGN(e, ResolveEndpoints(flags, {.gateway = "10.0.0.7:443"}));
  EXPECT_EQ(e.serving, "10.0.0.6:443");
}

TEST(EndpointsTest, GranaryYamlIsBelowTheFileAndTheFlags) {
  unsetenv("GRANARY_ENDPOINTS");
  Endpoints repo{.gateway = "10.0.0.7:443", .serving = "10.0.0.8:6571"};
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints({}, repo));
  EXPECT_EQ(e.registry, "10.0.0.7:443");
  EXPECT_EQ(e.serving, "10.0.0.8:6571");
  EndpointFlags flags;
  flags.file = Write("serving.yaml", "endpoints: {serving: 10.0.0.9:1}\n");
  flags.overrides.registry = "10.0.0.9:2";
  ASSERT_OK_AND_ASSIGN(e, ResolveEndpoints(flags, repo));
  EXPECT_EQ(e.serving, "10.0.0.9:1");
  EXPECT_EQ(e.registry, "10.0.0.9:2");
  EXPECT_EQ(e.materializer, "10.0.0.7:443");
}

TEST(EndpointsTest, FlagsBeatTheFileWhichBeatsDefaults) {
  std::string file =
      Write("endpoints.yaml", "endpoints:\n  serving: 10.0.0.1:1\n  registry: 10.0.0.1:2\n");
  EndpointFlags flags;
  flags.file = file;
  flags.overrides.serving = "10.0.0.9:9";
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints(flags));
  EXPECT_EQ(e.serving, "10.0.0.9:9");
  EXPECT_EQ(e.registry, "10.0.0.1:2");
  EXPECT_EQ(e.ingestion, "127.0.0.1:6565");  // not named: through the gateway
}

TEST(EndpointsTest, EnvironmentNamesTheFile) {
  setenv("GRANARY_ENDPOINTS", Write("env.yaml", "endpoints: {gateway: 10.1.1.1:7}\n").c_str(), 1);
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints({}));
  EXPECT_EQ(e.gateway, "10.1.1.1:7");
  unsetenv("GRANARY_ENDPOINTS");
}

TEST(EndpointsTest, BadFileIsAnErrorNamingTheKey) {
  EndpointFlags flags;
  flags.file = Write("bad.yaml", "endpoints:\n  serving: nowhere\n  servng: 1.2.3.4:5\n");
  EXPECT_THAT(ResolveEndpoints(flags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(::testing::HasSubstr("endpoints.serving"),
                                        ::testing::HasSubstr("endpoints.servng: unknown key"))));
  flags.file = "/nonexistent.yaml";
  EXPECT_THAT(ResolveEndpoints(flags), StatusIs(absl::StatusCode::kNotFound));
}

TEST(EndpointsTest, TheUiIsTheGatewaysHostOnTheHttpPortUnlessTheFileSays) {
  unsetenv("GRANARY_ENDPOINTS");
  ASSERT_OK_AND_ASSIGN(Endpoints e, ResolveEndpoints({}));
  EXPECT_EQ(e.ui, "http://127.0.0.1:6567/ui/");
  EndpointFlags flags;
  flags.overrides.gateway = "gateway.example:6565";
  ASSERT_OK_AND_ASSIGN(e, ResolveEndpoints(flags));
  EXPECT_EQ(e.ui, "http://gateway.example:6567/ui/");
  flags.file = Write("ui.yaml", "endpoints: {ui: 'http://127.0.0.1:16566/ui/'}\n");
  ASSERT_OK_AND_ASSIGN(e, ResolveEndpoints(flags));
  EXPECT_EQ(e.ui, "http://127.0.0.1:16566/ui/");
  flags.overrides.ui = "https://granary.example/ui/";
  ASSERT_OK_AND_ASSIGN(e, ResolveEndpoints(flags));
  EXPECT_EQ(e.ui, "https://granary.example/ui/");
  // Not a gRPC service: status does not list it.
  for (const auto& [name, address] : e.All()) EXPECT_NE(name, "ui");
}

}  // namespace
}  // namespace granary::cli
