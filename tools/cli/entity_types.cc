#include "tools/cli/entity_types.h"

#include "absl/time/clock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace granary::cli {

std::map<std::string, types::v1::ValueType::Enum> EntityTypes(const Target& registry,
                                                              const std::string& project,
                                                              absl::string_view verb,
                                                              std::ostream& err) {
  std::map<std::string, types::v1::ValueType::Enum> types;
  if (registry.address.empty() || project.empty()) {
    err << "granary " << verb << ": no project or registry to ask for entity types; values are "
        << "typed by what they look like\n";
    return types;
  }
  auto stub = registry::v1::RegistryService::NewStub(OpenChannel(registry));
  registry::v1::GetSnapshotRequest req;
  req.set_project(project);
  registry::v1::GetSnapshotResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  if (grpc::Status s = stub->GetSnapshot(&ctx, req, &resp); !s.ok()) {
    err << "granary " << verb << ": cannot ask the registry at " << registry.address
        << " for entity types (" << s.error_message()
        << AuthHint(registry, static_cast<absl::StatusCode>(s.error_code()))
        << "); values are typed by what they look like\n";
    return types;
  }
  for (const auto& ds : resp.snapshot().repo().data_sources()) {
    if (!ds.has_request()) continue;
    for (const auto& field : ds.request().schema()) types[field.name()] = field.dtype();
  }
  // A join key wins over a request column of the same name.
  for (const auto& e : resp.snapshot().repo().entities()) {
    types[e.join_key().empty() ? e.name() : e.join_key()] = e.value_type();
  }
  return types;
}

}  // namespace granary::cli
