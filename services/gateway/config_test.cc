#include "services/gateway/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/config/reader.h"
#include "libs/testing/status_matchers.h"

namespace granary::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The HTTP library under the gateway's HTTP door: civetweb unless the config says otherwise
// (tools/bench/run gateway measured it cheaper), and nothing but the two known names.
TEST(GatewayConfigTest, HttpLibraryIsCivetwebUnlessNamed) {
  struct Case {
    std::string http;
    HttpLibrary expected;
  };
  for (const Case& c :
       {Case{"{}", HttpLibrary::kCivetweb}, Case{"{library: civetweb}", HttpLibrary::kCivetweb},
        Case{"{library: httplib}", HttpLibrary::kHttplib}}) {
    ASSERT_OK_AND_ASSIGN(config::Reader root,
                         config::Reader::FromString("gateway: {http: " + c.http + "}"));
    GatewayConfig config = ReadGatewayConfig(root);
    EXPECT_EQ(config.http_library, c.expected) << c.http;
    EXPECT_THAT(root.Finish().message(), Not(HasSubstr("library"))) << c.http;
  }
  ASSERT_OK_AND_ASSIGN(config::Reader root,
                       config::Reader::FromString("gateway: {http: {library: beast}}"));
  (void)ReadGatewayConfig(root);
  EXPECT_THAT(root.Finish().message(), HasSubstr("expected civetweb or httplib"));
}

}  // namespace
}  // namespace granary::gateway
