#include "services/materializer/materializer_service.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"

#include "libs/base/clock.h"
#include "libs/base/periodic.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/stream_trimmer.h"
#include "libs/bus/streams.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/pg/pool.h"
#include "libs/registry_client/registry_client.h"
#include "services/materializer/dead_letter_grpc.h"
#include "services/materializer/dead_letters.h"
#include "services/materializer/historical.h"
#include "services/materializer/job_metrics.h"
#include "services/materializer/job_store.h"
#include "services/materializer/jobs.h"
#include "services/materializer/materialization_grpc.h"
#include "services/materializer/materialization_ledger.h"
#include "services/materializer/offline_writer.h"
#include "services/materializer/online_cleaner.h"
#include "services/materializer/online_writer.h"
#include "services/materializer/push_handler.h"
#include "services/materializer/stream_worker.h"
#include "services/materializer/task_runner.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {
namespace {

absl::Status Build(const MaterializerConfig& config, server::ServiceHost& host) {
  auto metrics = std::make_shared<WriterMetrics>(host.metrics());
  host.AddCollectable(metrics->histograms());

  ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(config.nats));
  ASSIGN_OR_RETURN(std::shared_ptr<bus::JetStream> js, bus::JetStream::Create(nats));
  host.AddDependency("nats", bus::JetStreamCheck(nats, js, config.jetstream));
  auto store = std::make_shared<onlinestore::RedisOnlineStore>(config.redis);
  std::shared_ptr<onlinestore::OnlineStoreSession> probe = store->NewSession();
  absl::Duration ping_timeout = config.redis.command_timeout;
  host.AddDependency("redis",
                     [probe, ping_timeout] { return probe->Ping(absl::Now() + ping_timeout); });
  // Reads and writes go through connections of their own, so each may use a role with only
  // the privileges it needs (deploy/postgres/roles.sql).
  auto offline = std::make_shared<pg::Pool>(config.offline_store);
  std::shared_ptr<pg::Pool> offline_writes =
      config.offline_store_writer ? std::make_shared<pg::Pool>(*config.offline_store_writer)
                                  : offline;
  // Job state and the offline writer's ledger live with the offline store; their schemas are
  // brought up to date now, or, when PostgreSQL does not answer yet, by the health check that
  // sees it answer (the service is NOT_SERVING until then), never by a first write.
  auto job_store = std::make_shared<JobStore>(offline_writes);

  // Every call to the registry (snapshots, materialization intervals) is signed as this
  // service, so a registry that requires the gateway's signature answers it.
  registry_client::RegistryClientOptions registry_options = config.registry;
  registry_options.caller = host.service_caller();
  auto registry = std::make_shared<registry_client::RegistryClient>(registry_options, nats);
  RETURN_IF_ERROR(registry->Start());
  host.AddOptionalDependency("registry", [registry] { return registry->Ready(); });
  // Projects are watched as their batches arrive; the first batch of a project waits a little
  // for its catalog (UNAVAILABLE, and delivered again, if the registry does not answer).
  CatalogLookup lookup = [registry](const std::string& project) {
    if (auto catalog = registry->Get(project)) {
      return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog);
    }
    registry->Watch(project);
    registry->WaitUntil(
        project, [](const registry_client::Catalog* c) { return c != nullptr; }, absl::Seconds(2));
    return registry->Lookup(project);
  };
  // Freshness beside each written view's TTL, from the catalog held (nothing waits here).
  host.OnScrape([metrics, registry] {
    metrics->UpdateAges(absl::Now(),
                        [&registry](const std::string& project,
                                    const std::string& view) -> std::optional<absl::Duration> {
                          std::shared_ptr<const registry_client::Catalog> catalog =
                              registry->Get(project);
                          if (catalog == nullptr) return std::nullopt;
                          const registry::v1::FeatureView* found = catalog->FindFeatureView(view);
                          if (found == nullptr || !found->has_ttl()) return absl::ZeroDuration();
                          return base::FromProtoDuration(found->ttl());
                        });
  });

  auto offline_writer = std::make_shared<OfflineWriter>(offline_writes, lookup, metrics);
  auto migrated = std::make_shared<std::atomic<bool>>(false);
  auto migrate = [job_store, offline_writer, migrated]() -> absl::Status {
    if (migrated->load()) return absl::OkStatus();
    RETURN_IF_ERROR(job_store->Migrate());
    RETURN_IF_ERROR(offline_writer->Migrate());
    migrated->store(true);
    return absl::OkStatus();
  };
  if (absl::Status now = migrate(); !now.ok() && !absl::IsUnavailable(now)) return now;
  host.AddDependency("postgres", [offline, offline_writes, migrate] {
    RETURN_IF_ERROR(offline->Ping());
    if (offline_writes != offline) RETURN_IF_ERROR(offline_writes->Ping());
    return migrate();
  });
  const base::Clock* clock = &base::Clock::Real();
  // Each worker's options with the runtime's tracer.
  auto traced = [&host](StreamWorkerOptions options) {
    options.tracer = host.tracer();
    return options;
  };
  std::vector<std::shared_ptr<StreamWorker>> workers = {
      std::make_shared<StreamWorker>(traced(config.online_writer), js, js,
                                     std::make_shared<PushHandler>(std::make_shared<OnlineWriter>(
                                         store, lookup, metrics, config.write_timeout)),
                                     metrics, clock),
      std::make_shared<StreamWorker>(traced(config.offline_writer), js, js,
                                     std::make_shared<PushHandler>(offline_writer), metrics, clock),
      std::make_shared<StreamWorker>(
          traced(config.online_cleaner), js, js,
          std::make_shared<OnlineCleaner>(store, metrics, config.write_timeout), metrics, clock),
  };
  auto ledger = std::make_shared<RegistryLedger>(registry_options);
  TaskRunnerOptions task_options = config.tasks;
  char host_name[256] = {};
  gethostname(host_name, sizeof(host_name) - 1);
  task_options.worker = absl::StrCat(host_name, ":", getpid());
  if (config.task_runner.threads > 0) {
    workers.push_back(std::make_shared<StreamWorker>(
        traced(config.task_runner), js, js,
        std::make_shared<TaskRunner>(task_options, job_store, offline, store, lookup, ledger,
                                     metrics),
        metrics, clock));
  }
  auto jobs = std::make_shared<Jobs>(config.jobs, job_store, js, lookup, ledger, offline);
  // Any replica queues again the tasks of a job whose creator could not queue them all.
  auto requeue = std::make_shared<base::Periodic>("queue unqueued materialization tasks",
                                                  config.jobs.requeue_after,
                                                  [jobs] { return jobs->RequeueUnpublished(); });
  for (const auto& worker : workers) {
    // A worker failing for long without a success (Redis out of memory or read-only, a
    // revoked permission) makes the service NOT_SERVING until it writes again.
    host.AddDependency(worker->durable(), [worker] { return worker->Health(); });
  }
  host.OnScrape([workers, metrics] {
    for (const auto& w : workers) {
      metrics->SetWorkerState(w->durable(), w->stalled_for(), w->in_hand(), w->oldest_failing());
    }
  });
  // Every replica trims: the floors only move up, so passes at once do no harm.
  auto trimmer = std::make_shared<bus::StreamTrimmer>(
      js, bus::kPushStream, std::vector<std::string>{bus::kOnlineWriter, bus::kOfflineWriter},
      config.trim_interval);
  host.OnScrape([trimmer, metrics] { metrics->SetPushStream(trimmer->Last()); });
  if (config.online_writer.threads == 0 || config.offline_writer.threads == 0) {
    // Allowed (a replica may serve only RPCs), but some replica must run both writers:
    // GRANARY_PUSH is trimmed only below both writers' floors, and fills otherwise.
    base::LogWarning("this replica runs no online or no offline writer; another one must")
        .With("online_writer_threads", config.online_writer.threads)
        .With("offline_writer_threads", config.offline_writer.threads);
  }
  auto job_metrics = std::make_shared<JobMetrics>(host.metrics(), job_store, absl::Seconds(15));
  host.OnStart([workers, trimmer, requeue, job_metrics] {
    for (const auto& w : workers) w->Start();
    trimmer->Start();
    requeue->Start();
    job_metrics->Start();
  });
  host.OnStop([workers, trimmer, requeue, registry, job_metrics] {
    job_metrics->Stop();
    requeue->Stop();
    trimmer->Stop();
    for (const auto& w : workers) w->Stop();
    registry->Stop();
  });
  // Retrievals run callers' SQL: connections of their own, never the job store's.
  HistoricalOptions historical_options = config.historical;
  historical_options.on_demand_failed = [metrics](int64_t outputs) {
    metrics->RecordOnDemandFailures("historical", outputs);
  };
  auto historical = std::make_shared<Historical>(
      historical_options, std::make_shared<pg::Pool>(config.offline_store), lookup);
  host.AddGrpcService(std::make_unique<MaterializationGrpc>(jobs, historical, host.callers()),
                      materialization::v1::MaterializationService::service_full_name());
  host.AddGrpcService(
      std::make_unique<DeadLetterGrpc>(std::make_shared<DeadLetters>(js, js), host.callers()),
      deadletter::v1::DeadLetterService::service_full_name());
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<MaterializerConfig> Definition() {
  return {.name = "materializer",
          .defaults = {.grpc_address = "0.0.0.0:6573", .metrics_address = "0.0.0.0:9573"},
          .read_config = ReadMaterializerConfig,
          .build = Build};
}

}  // namespace granary::materializer
