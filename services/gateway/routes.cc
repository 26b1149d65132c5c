#include "services/gateway/routes.h"

#include <map>

namespace granary::gateway {
namespace {

const std::map<std::string, Route, std::less<>>& Table() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, Route, std::less<>>();
    auto add = [t](std::string path, Route route) {
      t->emplace(std::move(path), std::move(route));
    };
    AddRegistryRoutes(add);
    AddDataRoutes(add);
    return t;
  }();
  return *table;
}

}  // namespace

const Route* FindRoute(absl::string_view method_path) {
  auto it = Table().find(method_path);
  return it == Table().end() ? nullptr : &it->second;
}

std::vector<std::string> RoutedMethods() {
  std::vector<std::string> paths;
  for (const auto& [path, route] : Table()) paths.push_back(path);
  return paths;
}

}  // namespace granary::gateway
