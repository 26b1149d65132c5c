#include "services/materializer/online_cleaner.h"

#include "absl/strings/str_cat.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/log.h"
#include "libs/keys/hash_field.h"

namespace granary::materializer {

Handled OnlineCleaner::Handle(bus::Message& message) {
  events::v1::OnlineCleanup cleanup;
  if (!cleanup.ParseFromArray(message.data().data(), static_cast<int>(message.data().size())) ||
      cleanup.project().empty()) {
    return {absl::DataLossError(
        absl::StrCat("undecodable online cleanup (", message.data().size(), " bytes)"))};
  }
  std::unique_ptr<onlinestore::OnlineStoreSession> session = store_->NewSession();
  for (const events::v1::OnlineCleanup::View& view : cleanup.views()) {
    onlinestore::ViewRemoval removal{
        .project = cleanup.project(), .view = view.name(), .view_version = view.view_version()};
    for (const std::string& feature : view.features()) {
      removal.feature_fields.push_back(keys::FeatureField(view.name(), feature));
    }
    onlinestore::RemovalProgress progress;
    while (!progress.done) {
      absl::Status page = session->RemoveView(removal, &progress, absl::Now() + page_timeout_);
      if (!page.ok()) return {page};
      (void)message.InProgress();
    }
    metrics_->RecordRowsWritten("online-cleaner", progress.rows_removed);
    base::LogInfo("removed a deleted feature view's online data")
        .With("project", cleanup.project())
        .With("feature_view", view.name())
        .With("view_version", view.view_version())
        .With("keys_scanned", progress.keys_scanned)
        .With("rows_removed", progress.rows_removed);
  }
  return {absl::OkStatus()};
}

}  // namespace granary::materializer
