// The registry through gRPC, in-process, against real PostgreSQL and NATS: apply, re-apply,
// update, delete, concurrent applies, history, the breaking-change gate, validation, snapshots,
// pagination, change events, materialization bookkeeping, and backend outages.
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "granary/events/v1/events.pb.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/base/grpc_status.h"
#include "libs/bus/connection.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "services/registry/registry_service.h"
#include "services/registry/test_repo.h"

namespace granary::registry {
namespace {

using ::granary::testing::NatsServer;
using ::granary::testing::PostgresServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ValueType = types::v1::ValueType;

// The registry and its backends, shared by a suite; each test uses its own project.
class Stack {
 public:
  static std::unique_ptr<Stack> Start() {
    auto s = std::make_unique<Stack>();
    auto pg = PostgresServer::Start();
    auto nats = NatsServer::Start();
    if (!pg.ok() || !nats.ok()) return nullptr;
    s->pg = std::move(*pg);
    s->nats = std::move(*nats);
    if (!s->pg->CreateDatabase("granary").ok()) return nullptr;
    auto rt = server::StartInProcess(
        Definition(), absl::StrCat("server: {dependency_check_interval: 50ms}\n",
                                   "postgres: {address: 127.0.0.1:", s->pg->port(),
                                   ", user: postgres, database: granary, sslmode: disable}\n",
                                   "nats: {url: '", s->nats->url(), "', reconnect_wait: 50ms}\n"));
    if (!rt.ok()) return nullptr;
    s->runtime = std::move(*rt);
    s->channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s->runtime->grpc_port()),
                                     grpc::InsecureChannelCredentials());
    s->stub = v1::RegistryService::NewStub(s->channel);
    return s;
  }

  std::unique_ptr<PostgresServer> pg;
  std::unique_ptr<NatsServer> nats;
  std::unique_ptr<server::ServiceRuntime> runtime;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RegistryService::Stub> stub;
};

// Runs one RPC with a deadline (and a caller), returning its result as absl::StatusOr.
template <typename Req, typename Resp, typename Method>
absl::StatusOr<Resp> Call(Method method, const Req& req, const std::string& caller = "") {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  if (!caller.empty()) ctx.AddMetadata("x-granary-caller", caller);
  Resp resp;
  grpc::Status s = method(&ctx, req, &resp);
  if (!s.ok()) return base::FromGrpcStatus(s);
  return resp;
}

class RegistryIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = Stack::Start().release();
    ASSERT_NE(stack_, nullptr);
  }
  static void TearDownTestSuite() { delete stack_; }

  // A project of the test's own.
  void SetUp() override { project_ = absl::StrCat("project_", ++projects_); }

  v1::RegistryService::Stub& stub() { return *stack_->stub; }

  v1::FeatureRepo Repo() { return testing::DriverRepo(project_); }

  absl::StatusOr<v1::ApplyResponse> Apply(const v1::FeatureRepo& repo,
                                          std::optional<int64_t> expected = std::nullopt,
                                          bool allow_breaking = false,
                                          const std::string& caller = "") {
    v1::ApplyRequest req;
    *req.mutable_repo() = repo;
    if (expected.has_value()) req.set_expected_version(*expected);
    req.set_allow_breaking(allow_breaking);
    return Call<v1::ApplyRequest, v1::ApplyResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().Apply(c, r, o); }, req, caller);
  }

  absl::StatusOr<v1::PlanResponse> Plan(const v1::FeatureRepo& repo) {
    v1::PlanRequest req;
    *req.mutable_repo() = repo;
    return Call<v1::PlanRequest, v1::PlanResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().Plan(c, r, o); }, req);
  }

  absl::StatusOr<v1::GetSnapshotResponse> Snapshot(int64_t if_newer_than = 0) {
    v1::GetSnapshotRequest req;
    req.set_project(project_);
    req.set_if_newer_than(if_newer_than);
    return Call<v1::GetSnapshotRequest, v1::GetSnapshotResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().GetSnapshot(c, r, o); }, req);
  }

  absl::StatusOr<v1::FeatureView> GetView(const std::string& name) {
    v1::GetObjectRequest req;
    req.set_project(project_);
    req.set_name(name);
    return Call<v1::GetObjectRequest, v1::FeatureView>(
        [&](auto* c, const auto& r, auto* o) { return stub().GetFeatureView(c, r, o); }, req);
  }

  absl::StatusOr<v1::DeleteObjectResponse> Delete(v1::ObjectKind kind, const std::string& name,
                                                  bool allow_breaking = false) {
    v1::DeleteObjectRequest req;
    req.set_project(project_);
    req.set_kind(kind);
    req.set_name(name);
    req.set_allow_breaking(allow_breaking);
    return Call<v1::DeleteObjectRequest, v1::DeleteObjectResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().DeleteObject(c, r, o); }, req);
  }

  static Stack* stack_;
  static int projects_;
  std::string project_;
};

Stack* RegistryIntegrationTest::stack_ = nullptr;
int RegistryIntegrationTest::projects_ = 0;

std::vector<std::string> Summary(const v1::Diff& diff) {
  std::vector<std::string> out;
  for (const auto& c : diff.changes()) {
    out.push_back(absl::StrCat(v1::ChangeType_Name(c.change()), " ", v1::ObjectKind_Name(c.kind()),
                               " ", c.name()));
  }
  return out;
}

TEST_F(RegistryIntegrationTest, ApplyReapplyUpdateDelete) {
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse first, Apply(Repo()));
  EXPECT_TRUE(first.changed());
  EXPECT_EQ(first.version(), 1);
  EXPECT_THAT(
      Summary(first.diff()),
      ElementsAre("CREATE PROJECT " + project_, "CREATE ENTITY driver",
                  "CREATE DATA_SOURCE driver_stats_push", "CREATE DATA_SOURCE driver_stats_source",
                  "CREATE DATA_SOURCE vals_to_add", "CREATE FEATURE_VIEW driver_hourly_stats",
                  "CREATE ON_DEMAND_FEATURE_VIEW transformed_conv_rate",
                  "CREATE FEATURE_SERVICE driver_activity", "CREATE PERMISSION readers"));

  // The same repo again is a no-op: nothing written, the version stays.
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse again, Apply(Repo()));
  EXPECT_FALSE(again.changed());
  EXPECT_EQ(again.version(), 1);
  EXPECT_THAT(again.diff().changes(), ::testing::IsEmpty());

  // An update shows field by field.
  v1::FeatureRepo updated = Repo();
  updated.mutable_feature_views(0)->set_description("hourly driver stats");
  updated.mutable_feature_views(0)->mutable_ttl()->set_seconds(7200);
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse second, Apply(updated));
  EXPECT_EQ(second.version(), 2);
  ASSERT_EQ(second.diff().changes_size(), 1);
  const auto& change = second.diff().changes(0);
  EXPECT_EQ(change.change(), v1::UPDATE);
  ASSERT_EQ(change.fields_size(), 2);
  EXPECT_EQ(change.fields(0).path(), "ttl");
  EXPECT_EQ(change.fields(0).new_value(), "2h");
  ASSERT_OK_AND_ASSIGN(v1::FeatureView view, GetView("driver_hourly_stats"));
  EXPECT_EQ(view.description(), "hourly driver stats");
  EXPECT_EQ(view.meta().created_version(), 1);
  EXPECT_EQ(view.meta().updated_version(), 2);

  // Dropping an object from the repo deletes it.
  v1::FeatureRepo without = updated;
  without.clear_permissions();
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse third, Apply(without));
  EXPECT_EQ(third.version(), 3);
  EXPECT_THAT(Summary(third.diff()), ElementsAre("DELETE PERMISSION readers"));
  v1::GetObjectRequest get;
  get.set_project(project_);
  get.set_name("readers");
  EXPECT_THAT(
      (Call<v1::GetObjectRequest, v1::Permission>(
          [&](auto* c, const auto& r, auto* o) { return stub().GetPermission(c, r, o); }, get)),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("permission readers not found")));
}

TEST_F(RegistryIntegrationTest, TwoConcurrentAppliesPlannedOnTheSameVersionOneWins) {
  ASSERT_OK(Apply(Repo()));
  ASSERT_OK_AND_ASSIGN(v1::PlanResponse plan, Plan(Repo()));
  int64_t base = plan.base_version();
  for (int round = 0; round < 5; ++round) {
    absl::Barrier* start = new absl::Barrier(2);
    std::vector<absl::StatusOr<v1::ApplyResponse>> results(2, absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        v1::FeatureRepo repo = Repo();
        repo.mutable_feature_views(0)->set_description(absl::StrCat("round ", round, " by ", i));
        if (start->Block()) delete start;
        results[i] = Apply(repo, base);
      });
    }
    for (auto& t : threads) t.join();
    int wins = 0, aborted = 0;
    for (const auto& r : results) {
      if (r.ok()) ++wins;
      if (absl::IsAborted(r.status())) ++aborted;
    }
    ASSERT_EQ(wins, 1) << results[0].status() << " / " << results[1].status();
    ASSERT_EQ(aborted, 1);
    EXPECT_THAT(results[0].ok() ? results[1].status() : results[0].status(),
                StatusIs(absl::StatusCode::kAborted, HasSubstr("plan again")));
    base += 1;
  }
  ASSERT_OK_AND_ASSIGN(auto snap, Snapshot());
  EXPECT_EQ(snap.snapshot().version(), base);
}

TEST_F(RegistryIntegrationTest, ApplyWithoutAPinnedVersionRetriesInsteadOfFailing) {
  ASSERT_OK(Apply(Repo()));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      v1::FeatureRepo repo = Repo();
      repo.mutable_feature_views(0)->mutable_tags()->insert({absl::StrCat("writer", i), "x"});
      if (!Apply(repo).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
}

TEST_F(RegistryIntegrationTest, HistoryNewestFirstWithCallerAndPages) {
  ASSERT_OK(Apply(Repo(), std::nullopt, false, "alice"));
  v1::FeatureRepo repo = Repo();
  for (int i = 0; i < 3; ++i) {
    repo.mutable_project()->set_description(absl::StrCat("v", i + 2));
    ASSERT_OK(Apply(repo, std::nullopt, false, "bob"));
  }
  v1::ListHistoryRequest req;
  req.set_project(project_);
  req.set_page_size(3);
  auto list = [&](const v1::ListHistoryRequest& r) {
    return Call<v1::ListHistoryRequest, v1::ListHistoryResponse>(
        [&](auto* c, const auto& q, auto* o) { return stub().ListHistory(c, q, o); }, r);
  };
  ASSERT_OK_AND_ASSIGN(v1::ListHistoryResponse page1, list(req));
  ASSERT_EQ(page1.entries_size(), 3);
  EXPECT_EQ(page1.entries(0).version(), 4);
  EXPECT_EQ(page1.entries(0).caller(), "bob");
  EXPECT_EQ(page1.entries(2).version(), 2);
  ASSERT_FALSE(page1.next_page_token().empty());
  req.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListHistoryResponse page2, list(req));
  ASSERT_EQ(page2.entries_size(), 1);
  EXPECT_EQ(page2.entries(0).version(), 1);
  EXPECT_EQ(page2.entries(0).caller(), "alice");
  EXPECT_EQ(page2.entries(0).diff().changes_size(), 9);
  EXPECT_TRUE(page2.next_page_token().empty());
}

TEST_F(RegistryIntegrationTest, BreakingChangesNeedExplicitConsent) {
  ASSERT_OK(Apply(Repo()));
  v1::FeatureRepo retyped = Repo();
  retyped.mutable_feature_views(0)->mutable_schema(0)->set_dtype(ValueType::DOUBLE);
  ASSERT_OK_AND_ASSIGN(v1::PlanResponse plan, Plan(retyped));
  EXPECT_TRUE(plan.diff().breaking());
  EXPECT_THAT(
      Apply(retyped),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("feature service driver_activity uses driver_hourly_stats:conv_rate")));
  ASSERT_OK_AND_ASSIGN(auto unchanged, Snapshot());
  EXPECT_EQ(unchanged.snapshot().version(), 1);
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse forced, Apply(retyped, std::nullopt, true));
  EXPECT_EQ(forced.version(), 2);
  EXPECT_TRUE(forced.diff().breaking());
}

TEST_F(RegistryIntegrationTest, InvalidReposAreRefusedWithEveryProblemAndNothingWritten) {
  v1::FeatureRepo bad = Repo();
  bad.mutable_entities(0)->set_value_type(ValueType::FLOAT);
  bad.mutable_feature_views(0)->mutable_schema(2)->set_dtype(ValueType::INVALID);
  EXPECT_THAT(Apply(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                   ::testing::AllOf(HasSubstr("2 problems"),
                                                    HasSubstr("entities[driver].value_type"),
                                                    HasSubstr("schema[2].dtype"))));
  EXPECT_THAT(Plan(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Snapshot(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryIntegrationTest, SnapshotsAreCheapWhenCurrentAndNotFoundForUnknownProjects) {
  ASSERT_OK(Apply(Repo()));
  ASSERT_OK_AND_ASSIGN(auto full, Snapshot());
  EXPECT_FALSE(full.not_modified());
  EXPECT_EQ(full.snapshot().version(), 1);
  EXPECT_EQ(full.snapshot().repo().feature_views_size(), 1);
  EXPECT_EQ(full.snapshot().repo().feature_views(0).meta().created_version(), 1);
  ASSERT_OK_AND_ASSIGN(auto current, Snapshot(1));
  EXPECT_TRUE(current.not_modified());
  EXPECT_FALSE(current.has_snapshot());
  v1::GetSnapshotRequest req;
  req.set_project("no_such_project");
  EXPECT_THAT(
      (Call<v1::GetSnapshotRequest, v1::GetSnapshotResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub().GetSnapshot(c, r, o); }, req)),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_project")));
}

TEST_F(RegistryIntegrationTest, ListsFilterByTagsAndPage) {
  v1::FeatureRepo repo = Repo();
  for (int i = 0; i < 5; ++i) {
    v1::FeatureView* v = repo.add_feature_views();
    *v = repo.feature_views(0);
    v->set_name(absl::StrCat("view_", i));
    v->clear_stream_source();
    v->mutable_tags()->clear();
    (*v->mutable_tags())["parity"] = i % 2 == 0 ? "even" : "odd";
  }
  ASSERT_OK(Apply(repo));
  v1::ListObjectsRequest req;
  req.set_project(project_);
  req.set_page_size(2);
  auto list = [&](const v1::ListObjectsRequest& r) {
    return Call<v1::ListObjectsRequest, v1::ListFeatureViewsResponse>(
        [&](auto* c, const auto& q, auto* o) { return stub().ListFeatureViews(c, q, o); }, r);
  };
  std::vector<std::string> names;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListFeatureViewsResponse page, list(req));
    ASSERT_LE(page.feature_views_size(), 2);
    for (const auto& v : page.feature_views()) names.push_back(v.name());
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_THAT(names,
              ElementsAre("driver_hourly_stats", "view_0", "view_1", "view_2", "view_3", "view_4"));
  req.set_page_size(0);
  (*req.mutable_tags())["parity"] = "odd";
  ASSERT_OK_AND_ASSIGN(v1::ListFeatureViewsResponse odd, list(req));
  ASSERT_EQ(odd.feature_views_size(), 2);
  EXPECT_EQ(odd.feature_views(0).name(), "view_1");
  req.set_page_size(5000);
  EXPECT_THAT(list(req), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  req.set_page_size(1);
  req.set_page_token("!!not a token!!");
  EXPECT_THAT(list(req), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  req.set_project("no_such_project");
  req.clear_page_token();
  EXPECT_THAT(list(req), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryIntegrationTest, DeletingObjectsAndProjects) {
  ASSERT_OK(Apply(Repo()));
  // Still used by a service and an on-demand view: refused, naming the users.
  EXPECT_THAT(Delete(v1::FEATURE_VIEW, "driver_hourly_stats"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("feature_services[driver_activity]")));
  // Deleting the service breaks its consumers: only with consent.
  EXPECT_THAT(Delete(v1::FEATURE_SERVICE, "driver_activity"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("NOT_FOUND")));
  ASSERT_OK_AND_ASSIGN(auto deleted, Delete(v1::FEATURE_SERVICE, "driver_activity", true));
  EXPECT_EQ(deleted.version(), 2);
  EXPECT_THAT(Delete(v1::FEATURE_SERVICE, "driver_activity"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Delete(v1::PROJECT, project_), StatusIs(absl::StatusCode::kInvalidArgument));

  v1::DeleteProjectRequest del;
  del.set_project(project_);
  auto delete_project = [&] {
    return Call<v1::DeleteProjectRequest, v1::DeleteProjectResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().DeleteProject(c, r, o); }, del);
  };
  ASSERT_OK_AND_ASSIGN(auto gone, delete_project());
  EXPECT_EQ(gone.deleted_version(), 2);
  EXPECT_THAT(Snapshot(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(delete_project(), StatusIs(absl::StatusCode::kNotFound));
  // Re-created, its version keeps going up: caches never see it go backwards.
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse again, Apply(Repo()));
  EXPECT_EQ(again.version(), 4);
}

TEST_F(RegistryIntegrationTest, EveryCommitIsAnnouncedOnNats) {
  ASSERT_OK_AND_ASSIGN(auto nats, bus::Connection::Open({.url = stack_->nats->url()}));
  absl::Mutex mu;
  std::vector<int64_t> versions;
  ASSERT_OK_AND_ASSIGN(auto sub,
                       nats->Subscribe(absl::StrCat("granary.registry.changed.", project_),
                                       [&](absl::string_view, absl::string_view data) {
                                         events::v1::RegistryChanged e;
                                         ASSERT_TRUE(e.ParseFromString(std::string(data)));
                                         absl::MutexLock lock(&mu);
                                         versions.push_back(e.version());
                                       }));
  ASSERT_OK(nats->Ping());  // the subscription is in place
  ASSERT_OK(Apply(Repo()));
  v1::FeatureRepo repo = Repo();
  repo.mutable_project()->set_owner("ml-platform");
  ASSERT_OK(Apply(repo));
  ASSERT_OK(Apply(repo));  // a no-op: nothing to announce
  repo.clear_permissions();
  ASSERT_OK(Apply(repo));                                           // version 3
  ASSERT_OK(Delete(v1::FEATURE_SERVICE, "driver_activity", true));  // version 4
  v1::DeleteProjectRequest del;
  del.set_project(project_);
  ASSERT_OK((Call<v1::DeleteProjectRequest, v1::DeleteProjectResponse>(
      [&](auto* c, const auto& r, auto* o) { return stub().DeleteProject(c, r, o); }, del)));
  absl::MutexLock lock(&mu);
  auto five = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return versions.size() >= 5; };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&five), absl::Seconds(10)));
  // In order, one per commit, the no-op absent, and the project's deletion as version 0.
  EXPECT_THAT(versions, ElementsAre(1, 2, 3, 4, 0));
}

TEST_F(RegistryIntegrationTest, MaterializationBookkeeping) {
  ASSERT_OK(Apply(Repo()));
  auto record = [&](const std::string& view, int64_t start, int64_t end) {
    v1::RecordMaterializationRequest req;
    req.set_project(project_);
    req.set_feature_view(view);
    *req.mutable_interval()->mutable_start_time() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(start);
    *req.mutable_interval()->mutable_end_time() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(end);
    req.mutable_interval()->set_job_id("job-1");
    return Call<v1::RecordMaterializationRequest, v1::RecordMaterializationResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().RecordMaterialization(c, r, o); },
        req);
  };
  ASSERT_OK(record("driver_hourly_stats", 1000, 2000));
  ASSERT_OK(record("driver_hourly_stats", 2000, 3000));
  ASSERT_OK(record("driver_hourly_stats", 2000, 3000));  // recorded once
  EXPECT_THAT(record("driver_hourly_stats", 3000, 3000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("before end_time")));
  EXPECT_THAT(record("no_such_view", 1, 2), StatusIs(absl::StatusCode::kNotFound));
  v1::GetMaterializationStateRequest req;
  req.set_project(project_);
  req.set_feature_view("driver_hourly_stats");
  ASSERT_OK_AND_ASSIGN(
      v1::MaterializationState state,
      (Call<v1::GetMaterializationStateRequest, v1::MaterializationState>(
          [&](auto* c, const auto& r, auto* o) { return stub().GetMaterializationState(c, r, o); },
          req)));
  ASSERT_EQ(state.intervals_size(), 2);
  EXPECT_EQ(state.most_recent_end_time().seconds(), 3000);
  // The view's description carries its intervals; recording changes no version.
  ASSERT_OK_AND_ASSIGN(v1::FeatureView view, GetView("driver_hourly_stats"));
  EXPECT_EQ(view.materialization_intervals_size(), 2);
  ASSERT_OK_AND_ASSIGN(auto snap, Snapshot());
  EXPECT_EQ(snap.snapshot().version(), 1);
}

TEST_F(RegistryIntegrationTest, DeletingAProjectWithFeatureServicesNeedsConsent) {
  ASSERT_OK(Apply(Repo()));
  v1::DeleteProjectRequest del;
  del.set_project(project_);
  auto delete_project = [&] {
    return Call<v1::DeleteProjectRequest, v1::DeleteProjectResponse>(
        [&](auto* c, const auto& r, auto* o) { return stub().DeleteProject(c, r, o); }, del);
  };
  EXPECT_THAT(delete_project(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("driver_activity")));
  del.set_allow_breaking(true);
  ASSERT_OK(delete_project());
}

// What a write-time view stored for its old definition must never be served as the new one's:
// a change to what it computes starts a new incarnation (and its old outputs are removed
// online); a change to its description does not.
TEST_F(RegistryIntegrationTest, ChangingAWriteTimeViewStartsANewIncarnation) {
  v1::FeatureRepo repo = Repo();
  v1::OnDemandFeatureView* view = repo.mutable_on_demand_feature_views(0);
  view->set_mode(v1::OnDemandFeatureView::ON_WRITE);
  view->mutable_sources()->RemoveLast();  // its request source
  (*view->mutable_transformation()->mutable_expressions())["conv_rate_plus_val"] = "conv_rate * 2";
  for (int i = 0; i < 8; ++i) {  // several expressions: a map, its bytes in no fixed order
    *view->add_schema() = view->schema(0);
    view->mutable_schema()->rbegin()->set_name(absl::StrCat("extra", i));
    (*view->mutable_transformation()->mutable_expressions())[absl::StrCat("extra", i)] =
        absl::StrCat("conv_rate * ", i);
  }
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse first, Apply(repo));
  auto created_version = [&]() -> int64_t {
    absl::StatusOr<v1::GetSnapshotResponse> snap = Snapshot();
    return snap.ok() ? snap->snapshot().repo().on_demand_feature_views(0).meta().created_version()
                     : -1;
  };
  EXPECT_EQ(created_version(), first.version());
  view->set_description("twice the rate");
  ASSERT_OK(Apply(repo));
  EXPECT_EQ(created_version(), first.version());
  // A change elsewhere, and the same view rebuilt (its map filled in another order): no renewal.
  repo.mutable_feature_views(0)->set_description("hourly");
  auto& expressions = *view->mutable_transformation()->mutable_expressions();
  const std::map<std::string, std::string> same(expressions.begin(), expressions.end());
  expressions.clear();
  for (auto it = same.rbegin(); it != same.rend(); ++it) expressions[it->first] = it->second;
  ASSERT_OK(Apply(repo));
  EXPECT_EQ(created_version(), first.version());
  (*view->mutable_transformation()->mutable_expressions())["conv_rate_plus_val"] = "conv_rate * 3";
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse changed, Apply(repo, std::nullopt, /*breaking=*/true));
  EXPECT_EQ(created_version(), changed.version());
}

TEST_F(RegistryIntegrationTest, ASnapshotIsTheSameFromTheCacheAndFromTheDatabase) {
  v1::FeatureRepo repo = Repo();
  // Written out of name order: the cached and the loaded snapshot must still agree.
  std::reverse(repo.mutable_data_sources()->begin(), repo.mutable_data_sources()->end());
  ASSERT_OK(Apply(repo));
  ASSERT_OK_AND_ASSIGN(auto cached, Snapshot());
  // A second registry on the same database has nothing cached: it reads the database.
  ASSERT_OK_AND_ASSIGN(
      auto other,
      server::StartInProcess(
          Definition(), absl::StrCat("postgres: {address: 127.0.0.1:", stack_->pg->port(),
                                     ", user: postgres, database: granary, sslmode: disable}\n",
                                     "nats: {url: '", stack_->nats->url(), "'}\n")));
  auto other_stub = v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", other->grpc_port()), grpc::InsecureChannelCredentials()));
  v1::GetSnapshotRequest req;
  req.set_project(project_);
  ASSERT_OK_AND_ASSIGN(
      auto loaded,
      (Call<v1::GetSnapshotRequest, v1::GetSnapshotResponse>(
          [&](auto* c, const auto& r, auto* o) { return other_stub->GetSnapshot(c, r, o); }, req)));
  EXPECT_EQ(loaded.snapshot().SerializeAsString(), cached.snapshot().SerializeAsString())
      << "cached:\n"
      << cached.snapshot().DebugString() << "\nloaded:\n"
      << loaded.snapshot().DebugString();
}

TEST_F(RegistryIntegrationTest, BadRequestsNameTheField) {
  v1::GetObjectRequest get;
  get.set_project(project_);
  EXPECT_THAT((Call<v1::GetObjectRequest, v1::Entity>(
                  [&](auto* c, const auto& r, auto* o) { return stub().GetEntity(c, r, o); }, get)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name: required")));
  v1::GetSnapshotRequest snap;
  EXPECT_THAT(
      (Call<v1::GetSnapshotRequest, v1::GetSnapshotResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub().GetSnapshot(c, r, o); }, snap)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("project: required")));
  EXPECT_THAT(Apply(v1::FeatureRepo()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("project.name: required")));
}

// Backend outages, each test with backends of its own.
TEST(RegistryOutageTest, NatsDownNeverFailsAnApply) {
  std::unique_ptr<Stack> stack = Stack::Start();
  ASSERT_NE(stack, nullptr);
  ASSERT_OK(stack->nats->Stop());
  v1::ApplyRequest req;
  *req.mutable_repo() = testing::DriverRepo("outage");
  ASSERT_OK_AND_ASSIGN(
      v1::ApplyResponse applied,
      (Call<v1::ApplyRequest, v1::ApplyResponse>(
          [&](auto* c, const auto& r, auto* o) { return stack->stub->Apply(c, r, o); }, req)));
  EXPECT_EQ(applied.version(), 1);
}

TEST(RegistryOutageTest, PostgresDownIsUnavailableAndRecovers) {
  std::unique_ptr<Stack> stack = Stack::Start();
  ASSERT_NE(stack, nullptr);
  ASSERT_OK(stack->pg->Stop());
  v1::ApplyRequest req;
  *req.mutable_repo() = testing::DriverRepo("outage");
  auto apply = [&] {
    return Call<v1::ApplyRequest, v1::ApplyResponse>(
        [&](auto* c, const auto& r, auto* o) { return stack->stub->Apply(c, r, o); }, req);
  };
  EXPECT_THAT(apply(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(stack->pg->Restart());
  ASSERT_OK_AND_ASSIGN(v1::ApplyResponse applied, apply());
  EXPECT_EQ(applied.version(), 1);
}

}  // namespace
}  // namespace granary::registry
