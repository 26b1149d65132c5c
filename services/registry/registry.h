// The registry's logic behind the gRPC adapter, one part per concept: CatalogWriter (plan,
// apply, delete), CatalogReader (paginated reads and history), Snapshots (the snapshot cache
// that serving, ingestion and the materializer read) and MaterializationBook (materialized
// intervals). This class only wires them together over one store.
//
//   Registry registry(store, publisher);
//   ASSIGN_OR_RETURN(v1::ApplyResponse applied, registry.writer().Apply(request, "ci-bot"));
#ifndef GRANARY_SERVICES_REGISTRY_REGISTRY_H_
#define GRANARY_SERVICES_REGISTRY_REGISTRY_H_

#include <functional>
#include <memory>

#include "services/registry/catalog_reader.h"
#include "services/registry/catalog_writer.h"
#include "services/registry/change_publisher.h"
#include "services/registry/materialization_book.h"
#include "services/registry/snapshots.h"
#include "services/registry/store.h"

namespace granary::registry {

class Registry {
 public:
  // `cleanups_committed`: see CatalogWriter.
  Registry(std::shared_ptr<Store> store, std::shared_ptr<ChangePublisher> publisher,
           std::function<void()> cleanups_committed = nullptr)
      : snapshots_(std::make_shared<Snapshots>(store)),
        writer_(store, std::move(publisher), snapshots_, std::move(cleanups_committed)),
        reader_(store),
        book_(store) {}

  CatalogWriter& writer() { return writer_; }
  CatalogReader& reader() { return reader_; }
  Snapshots& snapshots() { return *snapshots_; }
  MaterializationBook& materializations() { return book_; }

 private:
  std::shared_ptr<Snapshots> snapshots_;
  CatalogWriter writer_;
  CatalogReader reader_;
  MaterializationBook book_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REGISTRY_H_
