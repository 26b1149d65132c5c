// PgStore against a real PostgreSQL: the optimistic commit (no timing involved), tombstones,
// stored order, and materialization intervals following their view.
#include "services/registry/pg_store.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "granary/registry/v1/objects.pb.h"
#include "gtest/gtest.h"

#include "libs/catalog/normalize.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "services/registry/repo_diff.h"
#include "services/registry/test_repo.h"

namespace granary::registry {
namespace {

using ::granary::testing::PostgresServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PostgresServer::Start();
    ASSERT_OK(pg);
    server_ = pg->release();
    ASSERT_OK(server_->CreateDatabase("granary"));
  }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override {
    pg::PgOptions o;
    o.host = server_->host();
    o.port = server_->port();
    o.database = "granary";
    o.user = server_->user();
    o.sslmode = "disable";
    // Reads and writes never migrate: before Migrate they answer UNAVAILABLE.
    PgStore unmigrated(std::make_shared<pg::Pool>(o));
    EXPECT_THAT(unmigrated.Load("any"), StatusIs(absl::StatusCode::kUnavailable));
    store_ = std::make_unique<PgStore>(std::make_shared<pg::Pool>(o));
    ASSERT_OK(store_->Migrate());
    project_ = absl::StrCat("store_", ++count_);
  }

  // A commit creating or replacing every object of the repo.
  CommitRequest Everything(const v1::FeatureRepo& repo, int64_t base) {
    CommitRequest r;
    r.project = repo.project().name();
    r.base_version = base;
    r.project_spec = repo.project();
    for (catalog::ObjectKind kind : catalog::RepoKinds()) {
      for (const auto* m : catalog::ObjectsOf(repo, kind)) r.upserts.emplace_back(kind, m);
    }
    r.caller = "test";
    return r;
  }

  v1::FeatureRepo Repo() {
    v1::FeatureRepo repo = testing::DriverRepo(project_);
    catalog::Normalize(&repo);
    return repo;
  }

  static PostgresServer* server_;
  static int count_;
  std::unique_ptr<PgStore> store_;
  std::string project_;
};

PostgresServer* PgStoreTest::server_ = nullptr;
int PgStoreTest::count_ = 0;

TEST_F(PgStoreTest, TwoCommitsFromTheSameVersionOneWins) {
  v1::FeatureRepo repo = Repo();
  ASSERT_OK_AND_ASSIGN(CommitResult first, store_->Commit(Everything(repo, 0)));
  EXPECT_EQ(first.version, 1);
  // A second writer that also read version 0 (the project did not exist) loses.
  EXPECT_THAT(store_->Commit(Everything(repo, 0)),
              StatusIs(absl::StatusCode::kAborted, ::testing::HasSubstr("plan again")));
  ASSERT_OK_AND_ASSIGN(CommitResult second, store_->Commit(Everything(repo, 1)));
  EXPECT_EQ(second.version, 2);
  EXPECT_THAT(store_->Commit(Everything(repo, 1)), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(auto version, store_->Version(project_));
  EXPECT_EQ(version.first, 2);
  EXPECT_TRUE(version.second);
}

TEST_F(PgStoreTest, ADeletedProjectKeepsCountingAndItsIntervalsGo) {
  v1::FeatureRepo repo = Repo();
  ASSERT_OK(store_->Commit(Everything(repo, 0)));
  v1::MaterializationInterval i;
  *i.mutable_start_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(100);
  *i.mutable_end_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(200);
  ASSERT_OK(store_->RecordMaterialization(project_, "driver_hourly_stats", i));
  ASSERT_OK_AND_ASSIGN(int64_t was, store_->DeleteProject(project_, 1, "test", v1::Diff(), {}));
  EXPECT_EQ(was, 1);
  EXPECT_THAT(store_->DeleteProject(project_, std::nullopt, "test", v1::Diff(), {}),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(ProjectState gone, store_->Load(project_));
  EXPECT_FALSE(gone.exists);
  EXPECT_EQ(gone.version, 2);  // the tombstone
  // Re-created from the tombstone's version, with no history of materialization.
  EXPECT_THAT(store_->Commit(Everything(repo, 0)), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(CommitResult again, store_->Commit(Everything(repo, 2)));
  EXPECT_EQ(again.version, 3);
  ASSERT_OK_AND_ASSIGN(auto intervals,
                       store_->MaterializationIntervals(project_, "driver_hourly_stats"));
  EXPECT_TRUE(intervals.empty());
}

TEST_F(PgStoreTest, DeletingAViewDeletesItsIntervals) {
  v1::FeatureRepo repo = Repo();
  ASSERT_OK(store_->Commit(Everything(repo, 0)));
  v1::MaterializationInterval i;
  *i.mutable_start_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(100);
  *i.mutable_end_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(200);
  ASSERT_OK(store_->RecordMaterialization(project_, "driver_hourly_stats", i));
  CommitRequest del;
  del.project = project_;
  del.base_version = 1;
  del.project_spec = repo.project();
  del.deletes.push_back({v1::FEATURE_VIEW, "driver_hourly_stats"});
  ASSERT_OK(store_->Commit(del));
  ASSERT_OK(store_->Commit(Everything(repo, 2)));  // the view comes back
  ASSERT_OK_AND_ASSIGN(auto intervals,
                       store_->MaterializationIntervals(project_, "driver_hourly_stats"));
  EXPECT_TRUE(intervals.empty());
}

TEST_F(PgStoreTest, CleanupsAreKeptWithTheirCommitUntilAnnounced) {
  ASSERT_OK_AND_ASSIGN(std::vector<PendingCleanup> none, store_->PendingCleanups(10));
  for (const PendingCleanup& p : none) ASSERT_OK(store_->DeleteCleanup(p.id));  // other tests'
  v1::FeatureRepo repo = Repo();
  ASSERT_OK(store_->Commit(Everything(repo, 0)));
  CommitRequest del;
  del.project = project_;
  del.base_version = 1;
  del.project_spec = repo.project();
  del.deletes.push_back({v1::FEATURE_VIEW, "driver_hourly_stats"});
  del.cleanup.set_project(project_);
  auto* view = del.cleanup.add_views();
  view->set_name("driver_hourly_stats");
  view->add_features("conv_rate");
  view->set_view_version(1);
  // A commit that fails writes no cleanup either.
  EXPECT_THAT(store_->Commit([&] {
    CommitRequest stale = del;
    stale.base_version = 0;
    return stale;
  }()),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK(store_->Commit(del));
  ASSERT_OK(store_->Commit(Everything(repo, 2)));
  events::v1::OnlineCleanup all;
  all.set_project(project_);
  all.add_views()->set_name("driver_hourly_stats");
  ASSERT_OK(store_->DeleteProject(project_, 3, "test", v1::Diff(), all));
  ASSERT_OK_AND_ASSIGN(std::vector<PendingCleanup> pending, store_->PendingCleanups(10));
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].cleanup.deleted_version(), 2);  // the version that deleted it
  EXPECT_EQ(pending[0].cleanup.views(0).view_version(), 1);
  EXPECT_THAT(pending[0].cleanup.views(0).features(), ElementsAre("conv_rate"));
  EXPECT_EQ(pending[1].cleanup.deleted_version(), 4);  // the project's tombstone
  ASSERT_OK(store_->DeleteCleanup(pending[0].id));
  ASSERT_OK_AND_ASSIGN(pending, store_->PendingCleanups(10));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].cleanup.deleted_version(), 4);
  ASSERT_OK(store_->DeleteCleanup(pending[0].id));
}

TEST_F(PgStoreTest, ObjectsComeBackInBytewiseNameOrder) {
  v1::FeatureRepo repo = Repo();
  for (const char* name : {"b_entity", "B_entity", "a_entity"}) {
    auto* e = repo.add_entities();
    e->set_name(name);
    e->set_join_key(name);
    e->set_value_type(types::v1::ValueType::STRING);
  }
  ASSERT_OK(store_->Commit(Everything(repo, 0)));
  ASSERT_OK_AND_ASSIGN(ProjectState state, store_->Load(project_));
  std::vector<std::string> names;
  for (const auto& e : state.repo.entities()) names.push_back(e.name());
  EXPECT_THAT(names, ElementsAre("B_entity", "a_entity", "b_entity", "driver"));
}

}  // namespace
}  // namespace granary::registry
