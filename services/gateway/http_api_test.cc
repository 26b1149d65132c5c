#include "services/gateway/http_api.h"

#include "gtest/gtest.h"

namespace granary::gateway {
namespace {

TEST(HttpSpanNameTest, ARequestIsNamedByItsRoutesTemplate) {
  EXPECT_EQ(HttpSpanName("POST", "/get-online-features"), "POST /get-online-features");
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects"), "GET /api/v1/projects");
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects/p"), "GET /api/v1/projects/{project}");
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects/p/feature_views"),
            "GET /api/v1/projects/{project}/{kind}");
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects/p/feature_views/driver_hourly_stats"),
            "GET /api/v1/projects/{project}/{kind}/{name}");
}

TEST(HttpSpanNameTest, WhatNoRouteHasDoesNotMakeNewNames) {
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects/p/k/n/extra"), "GET unknown route");
  EXPECT_EQ(HttpSpanName("GET", "/api/v1/projects//k"), "GET unknown route");
  EXPECT_EQ(HttpSpanName("GET", "/no/such/thing"), "GET unknown route");
  EXPECT_EQ(HttpSpanName("BREW", "/push"), "HTTP /push");
}

}  // namespace
}  // namespace granary::gateway
