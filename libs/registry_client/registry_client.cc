#include "libs/registry_client/registry_client.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "granary/events/v1/events.pb.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/log.h"
#include "libs/base/thread_name.h"
#include "libs/catalog/rules.h"

namespace granary::registry_client {

using registry::v1::GetSnapshotRequest;
using registry::v1::GetSnapshotResponse;
using registry::v1::RegistryService;

RegistryClient::RegistryClient(RegistryClientOptions options, std::shared_ptr<bus::Connection> nats)
    : options_(std::move(options)),
      nats_(std::move(nats)),
      channel_(rpc::ServiceChannel(options_.address, options_.caller)) {
  cells_.Set(std::make_shared<const Cells>());
}

RegistryClient::~RegistryClient() { Stop(); }

absl::Status RegistryClient::Start() {
  if (nats_ != nullptr) {
    absl::StatusOr<std::unique_ptr<bus::Subscription>> sub =
        nats_->Subscribe("granary.registry.changed.>",
                         [this](absl::string_view, absl::string_view data) { OnChange(data); });
    if (!sub.ok()) return sub.status();
    subscription_ = std::move(*sub);
    // Once the server has answered, the subscription is in place: no event after this moment
    // is missed (while connected).
    nats_->Ping().IgnoreError();
    // Events published while NATS was away were not delivered: look at everything again.
    reconnect_listener_ = nats_->AddReconnectListener([this] {
      for (const auto& [project, cell] : *cells_.Get()) Request(project);
    });
  }
  thread_ = std::thread([this] {
    base::NameThisThread("catalog-watch");
    Loop();
  });
  return absl::OkStatus();
}

void RegistryClient::Stop() {
  // No event may arrive once the loop is gone.
  subscription_.reset();
  if (reconnect_listener_ != 0) {
    nats_->RemoveReconnectListener(reconnect_listener_);
    reconnect_listener_ = 0;
  }
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<RegistryClient::Cell> RegistryClient::CellOf(const std::string& project) const {
  std::shared_ptr<const Cells> cells = cells_.Get();
  auto it = cells->find(project);
  return it == cells->end() ? nullptr : it->second;
}

void RegistryClient::Watch(const std::string& project) {
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<const Cells> cells = cells_.Get();
    if (cells->contains(project)) return;
    auto next = std::make_shared<Cells>(*cells);
    next->emplace(project, std::make_shared<Cell>());
    cells_.Set(std::move(next));
  }
  Request(project);
}

std::shared_ptr<const Catalog> RegistryClient::Get(const std::string& project) const {
  std::shared_ptr<Cell> cell = CellOf(project);
  return cell == nullptr ? nullptr : cell->Get();
}

RegistryClientOptions ReadRegistryClientOptions(config::Reader section) {
  RegistryClientOptions o;
  o.address = section.Address("address", o.address);
  o.poll_interval =
      section.Duration("poll_interval", o.poll_interval, absl::Seconds(1), absl::Hours(24));
  o.rpc_timeout =
      section.Duration("rpc_timeout", o.rpc_timeout, absl::Milliseconds(100), absl::Minutes(5));
  return o;
}

ServedProjects ReadServedProjects(config::Reader& section) {
  ServedProjects p;
  p.default_project = section.RequiredString("project");
  p.projects = section.StringList("projects");
  if (std::find(p.projects.begin(), p.projects.end(), p.default_project) == p.projects.end()) {
    p.projects.push_back(p.default_project);
  }
  for (const std::string& project : p.projects) {
    if (!project.empty() && !catalog::IsProjectName(project)) {
      section.AddError("projects", absl::StrCat("'", project, "' is not a project name"));
    }
  }
  return p;
}

absl::StatusOr<std::shared_ptr<const Catalog>> RegistryClient::Lookup(
    const std::string& project) const {
  std::shared_ptr<const Catalog> catalog = Get(project);
  if (catalog != nullptr) return catalog;
  absl::MutexLock lock(&mu_);
  if (missing_.count(project) > 0) {
    return absl::NotFoundError(absl::StrCat("project '", project, "' is not in the registry"));
  }
  auto failed = failing_.find(project);
  return absl::UnavailableError(absl::StrCat(
      "the catalog of project '", project, "' is not loaded yet",
      failed == failing_.end() ? std::string(" (registry unreachable?)")
                               : absl::StrCat(": registry: ", failed->second.ToString())));
}

void RegistryClient::Request(const std::string& project) {
  absl::MutexLock lock(&mu_);
  pending_.insert(project);
}

void RegistryClient::OnChange(absl::string_view data) {
  events::v1::RegistryChanged event;
  if (!event.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;
  std::shared_ptr<Cell> cell = CellOf(event.project());
  if (cell == nullptr) return;  // not a project we watch
  std::shared_ptr<const Catalog> held = cell->Get();
  // Version 0 means deleted; the version held means the event is a duplicate.
  if (event.version() == 0 || held == nullptr || event.version() != held->version()) {
    Request(event.project());
  }
}

bool RegistryClient::Refresh(const std::string& project) {
  std::shared_ptr<Cell> cell = CellOf(project);
  if (cell == nullptr) return true;
  std::shared_ptr<const Catalog> held = cell->Get();
  GetSnapshotRequest req;
  req.set_project(project);
  req.set_if_newer_than(held == nullptr ? 0 : held->version());
  GetSnapshotResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  grpc::Status s = RegistryService::NewStub(channel_)->GetSnapshot(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    // Not created yet, or deleted: nothing to serve from.
    {
      absl::MutexLock lock(&mu_);
      missing_.insert(project);
      failing_.erase(project);
    }
    if (held != nullptr) {
      cell->Set(nullptr);
      base::LogInfo("project gone from the registry").With("project", project);
      absl::MutexLock lock(&mu_);
      ++changes_;
    }
    return true;
  }
  if (!s.ok()) {
    // Refused (UNAUTHENTICATED: this service does not sign with the registry's secret) or
    // unreachable: either way, the last catalog stays and the reason is kept for Lookup.
    absl::Status failure = base::FromGrpcStatus(s, ctx);
    absl::MutexLock lock(&mu_);
    if (failing_.insert_or_assign(project, failure).second) {
      base::LogWarning("cannot refresh the catalog from the registry; keeping the last one")
          .With("project", project)
          .With("error", failure.ToString())
          .With("version", held == nullptr ? int64_t{0} : held->version());
    }
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    missing_.erase(project);
    if (failing_.erase(project) > 0)
      base::LogInfo("registry reachable again").With("project", project);
  }
  // Any other version than the one held is the registry's truth, even an older one (a
  // database restored from a backup): refreshes run one at a time, so it is never stale.
  if (resp.not_modified() || (held != nullptr && resp.snapshot().version() == held->version())) {
    return true;
  }
  int64_t version = resp.snapshot().version();
  cell->Set(std::make_shared<const Catalog>(std::move(*resp.mutable_snapshot())));
  base::LogInfo("catalog updated").With("project", project).With("version", version);
  absl::MutexLock lock(&mu_);
  ++changes_;
  return true;
}

void RegistryClient::Loop() {
  absl::Time next_poll = absl::Now() + options_.poll_interval;
  uint64_t seen_connects = nats_ == nullptr ? 0 : nats_->connects();
  while (true) {
    std::set<std::string> work;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), next_poll);
      if (stopping_) return;
      work.swap(pending_);
    }
    // Events sent while NATS was away are lost: a new connection means look at everything.
    uint64_t connects = nats_ == nullptr ? 0 : nats_->connects();
    if (absl::Now() >= next_poll || connects != seen_connects) {
      for (const auto& [project, cell] : *cells_.Get()) work.insert(project);
      next_poll = absl::Now() + options_.poll_interval;
      seen_connects = connects;
    }
    for (const std::string& project : work) {
      if (Stopping()) return;
      if (!Refresh(project)) {
        // Try again soon, not only at the next poll.
        next_poll = std::min(next_poll, absl::Now() + options_.retry_delay);
      }
    }
  }
}

bool RegistryClient::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool RegistryClient::WaitForVersion(const std::string& project, int64_t version,
                                    absl::Duration timeout) {
  return WaitUntil(
      project, [version](const Catalog* c) { return c != nullptr && c->version() >= version; },
      timeout);
}

bool RegistryClient::WaitUntil(const std::string& project,
                               const std::function<bool(const Catalog*)>& done,
                               absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  // Evaluated now and each time mu_ is released after a change (changes_ is bumped under it).
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::shared_ptr<const Catalog> catalog = Get(project);
    return done(catalog.get());
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

absl::Status RegistryClient::Ready() const {
  std::vector<std::string> missing;
  for (const auto& [project, cell] : *cells_.Get()) {
    if (cell->Get() == nullptr) missing.push_back(project);
  }
  if (missing.empty()) return absl::OkStatus();
  std::string why;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& project : missing) {
      auto failed = failing_.find(project);
      if (failed != failing_.end()) {
        why = absl::StrCat(" (registry: ", failed->second.ToString(), ")");
        break;
      }
    }
  }
  return absl::UnavailableError(
      absl::StrCat("no catalog yet for project ", absl::StrJoin(missing, ", "), why));
}

}  // namespace granary::registry_client
