// Every public method of every backend is routed, with its streaming shape: a method added to
// a service and forgotten here would answer UNIMPLEMENTED through the gateway.
#include "services/gateway/routes.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace granary::gateway {
namespace {

TEST(RoutesTest, EveryPublicMethodIsRoutedWithItsStreamingShape) {
  const char* services[] = {"granary.registry.v1.RegistryService",
                            "granary.serving.v1.ServingService",
                            "feast.serving.ServingService",
                            "granary.ingestion.v1.IngestionService",
                            "granary.materialization.v1.MaterializationService",
                            "granary.deadletter.v1.DeadLetterService"};
  int routed = 0;
  for (const char* name : services) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      std::string path = absl::StrCat("/", name, "/", method->name());
      const Route* route = FindRoute(path);
      if (method->name() == "RecordMaterialization") {
        // The materializer's own bookkeeping, on the registry directly.
        EXPECT_EQ(route, nullptr) << path;
        continue;
      }
      ASSERT_NE(route, nullptr) << path << " is not routed";
      EXPECT_EQ(route->client_streaming, method->client_streaming()) << path;
      EXPECT_EQ(route->server_streaming, method->server_streaming()) << path;
      EXPECT_TRUE(route->plan) << path;
      ++routed;
    }
  }
  EXPECT_EQ(routed, static_cast<int>(RoutedMethods().size()));
}

TEST(RoutesTest, InternalAndUnknownMethodsAreNotRouted) {
  EXPECT_EQ(FindRoute("/granary.registry.v1.RegistryService/RecordMaterialization"), nullptr);
  EXPECT_EQ(FindRoute("/grpc.health.v1.Health/Check"), nullptr);
  EXPECT_EQ(FindRoute("/granary.registry.v1.RegistryService/apply"), nullptr);
  EXPECT_EQ(FindRoute(""), nullptr);
}

}  // namespace
}  // namespace granary::gateway
