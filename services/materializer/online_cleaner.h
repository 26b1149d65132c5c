// Removes the online data of deleted feature views: the StreamWorker handler of stream
// GRANARY_CLEANUP, where the registry announces, after each commit that deleted views (alone
// or with their project), what to remove. The project's keys are scanned a page at a time
// (the message kept alive between pages); only the deleted incarnation's fields go, so a view
// created again meanwhile keeps its new rows, and keys of other projects, even ones whose names
// end the same way, are never touched. A removal cut short (a worker killed) starts over when
// the message comes back: removing twice is harmless.
//
//   auto cleaner = std::make_shared<OnlineCleaner>(store, metrics, absl::Seconds(5));
#ifndef GRANARY_SERVICES_MATERIALIZER_ONLINE_CLEANER_H_
#define GRANARY_SERVICES_MATERIALIZER_ONLINE_CLEANER_H_

#include <memory>

#include "absl/time/time.h"

#include "libs/onlinestore/online_store.h"
#include "services/materializer/stream_worker.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

class OnlineCleaner : public MessageHandler {
 public:
  OnlineCleaner(std::shared_ptr<onlinestore::OnlineStore> store,
                std::shared_ptr<WriterMetrics> metrics, absl::Duration page_timeout)
      : store_(std::move(store)), metrics_(std::move(metrics)), page_timeout_(page_timeout) {}

  Handled Handle(bus::Message& message) override;

 private:
  const std::shared_ptr<onlinestore::OnlineStore> store_;
  const std::shared_ptr<WriterMetrics> metrics_;
  const absl::Duration page_timeout_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_ONLINE_CLEANER_H_
