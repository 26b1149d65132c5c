#include "tools/cli/registry_commands.h"

#include <functional>
#include <iostream>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/status_macros.h"
#include "tools/cli/output.h"
#include "tools/cli/yaml_proto.h"

namespace granary::cli {
namespace {

namespace v1 = registry::v1;
using google::protobuf::Message;
using Objects = std::vector<std::unique_ptr<Message>>;
using Stub = v1::RegistryService::Stub;

constexpr absl::Duration kDeadline = absl::Seconds(30);

template <typename Req, typename Resp>
using Rpc = std::function<grpc::Status(grpc::ClientContext*, const Req&, Resp*)>;

template <typename Req, typename Resp>
absl::StatusOr<Resp> Call(const Rpc<Req, Resp>& rpc, const Req& req, const std::string& caller) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  if (!caller.empty()) ctx.AddMetadata("x-granary-caller", caller);
  Resp resp;
  grpc::Status s = rpc(&ctx, req, &resp);
  if (!s.ok()) return base::FromGrpcStatus(s);
  return resp;
}

// Every page of a List* call: its response's first field holds the objects.
template <typename Resp>
absl::StatusOr<Objects> ListAll(const Rpc<v1::ListObjectsRequest, Resp>& rpc,
                                v1::ListObjectsRequest req) {
  Objects out;
  do {
    absl::StatusOr<Resp> page = Call(rpc, req, "");
    if (!page.ok()) return page.status();
    const auto* field = Resp::descriptor()->field(0);
    for (int i = 0; i < page->GetReflection()->FieldSize(*page, field); ++i) {
      const Message& m = page->GetReflection()->GetRepeatedMessage(*page, field, i);
      out.emplace_back(m.New());
      out.back()->CopyFrom(m);
    }
    req.set_page_token(page->next_page_token());
  } while (!req.page_token().empty());
  return out;
}

absl::StatusOr<Objects> ListObjects(Stub& stub, v1::ObjectKind kind,
                                    const v1::ListObjectsRequest& req) {
  switch (kind) {
    case v1::ENTITY:
      return ListAll<v1::ListEntitiesResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListEntities(c, r, o); }, req);
    case v1::DATA_SOURCE:
      return ListAll<v1::ListDataSourcesResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListDataSources(c, r, o); }, req);
    case v1::FEATURE_VIEW:
      return ListAll<v1::ListFeatureViewsResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListFeatureViews(c, r, o); }, req);
    case v1::ON_DEMAND_FEATURE_VIEW:
      return ListAll<v1::ListOnDemandFeatureViewsResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListOnDemandFeatureViews(c, r, o); },
          req);
    case v1::FEATURE_SERVICE:
      return ListAll<v1::ListFeatureServicesResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListFeatureServices(c, r, o); }, req);
    case v1::PERMISSION:
      return ListAll<v1::ListPermissionsResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub.ListPermissions(c, r, o); }, req);
    default:
      return absl::InvalidArgumentError("not a kind of object a project holds");
  }
}

template <typename T>
absl::StatusOr<std::unique_ptr<Message>> GetOne(const Rpc<v1::GetObjectRequest, T>& rpc,
                                                const v1::GetObjectRequest& req) {
  absl::StatusOr<T> got = Call(rpc, req, "");
  if (!got.ok()) return got.status();
  return std::unique_ptr<Message>(new T(std::move(*got)));
}

absl::StatusOr<std::unique_ptr<Message>> GetObject(Stub& stub, v1::ObjectKind kind,
                                                   const v1::GetObjectRequest& req) {
  switch (kind) {
    case v1::ENTITY:
      return GetOne<v1::Entity>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetEntity(c, r, o); }, req);
    case v1::DATA_SOURCE:
      return GetOne<v1::DataSource>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetDataSource(c, r, o); }, req);
    case v1::FEATURE_VIEW:
      return GetOne<v1::FeatureView>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetFeatureView(c, r, o); }, req);
    case v1::ON_DEMAND_FEATURE_VIEW:
      return GetOne<v1::OnDemandFeatureView>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetOnDemandFeatureView(c, r, o); },
          req);
    case v1::FEATURE_SERVICE:
      return GetOne<v1::FeatureService>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetFeatureService(c, r, o); }, req);
    case v1::PERMISSION:
      return GetOne<v1::Permission>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetPermission(c, r, o); }, req);
    case v1::PROJECT: {
      v1::GetProjectRequest p;
      p.set_project(req.project());
      absl::StatusOr<v1::Project> got = Call<v1::GetProjectRequest, v1::Project>(
          [&](auto* c, const auto& r, auto* o) { return stub.GetProject(c, r, o); }, p, "");
      if (!got.ok()) return got.status();
      return std::unique_ptr<Message>(new v1::Project(std::move(*got)));
    }
    default:
      return absl::InvalidArgumentError("not a kind of object");
  }
}

}  // namespace

RegistryCommands::RegistryCommands(const Target& registry, std::string caller, CommandIo io)
    : stub_(v1::RegistryService::NewStub(OpenChannel(registry))),
      registry_(registry),
      caller_(std::move(caller)),
      io_(io) {}

int RegistryCommands::Fail(absl::string_view verb, const absl::Status& status) {
  io_.err << "granary " << verb << ": " << status.message();
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    io_.err << " (is the registry, or the gateway, running at " << registry_.address << "?)";
  }
  io_.err << AuthHint(registry_, status.code()) << "\n";
  return 1;
}

int RegistryCommands::Plan(const LoadedRepo& repo) {
  v1::PlanRequest req;
  *req.mutable_repo() = repo.repo;
  absl::StatusOr<v1::PlanResponse> plan = Call<v1::PlanRequest, v1::PlanResponse>(
      [&](auto* c, const auto& r, auto* o) { return stub_->Plan(c, r, o); }, req, caller_);
  if (!plan.ok()) {
    return Fail("plan",
                absl::Status(plan.status().code(), LocateProblems(repo, plan.status().message())));
  }
  if (io_.json) {
    io_.out << ToJson(*plan) << "\n";
    return 0;
  }
  const std::string& project = repo.config.project.name();
  if (plan->diff().changes().empty()) {
    io_.out << "No changes: project " << project << " is at version " << plan->base_version()
            << ".\n";
    return 0;
  }
  io_.out << "Plan for project " << project << " (at version " << plan->base_version() << "):\n";
  PrintDiff(plan->diff(), io_.out);
  io_.out << DiffCounts(plan->diff()) << ".";
  if (int n = BreakingCount(plan->diff()); n > 0) {
    io_.out << " " << n << (n == 1 ? " change breaks" : " changes break")
            << " consumers: apply needs --allow-breaking.";
  }
  io_.out << "\n";
  return 0;
}

int RegistryCommands::Apply(const LoadedRepo& repo, bool allow_breaking,
                            const std::string& comment) {
  v1::PlanRequest plan_req;
  *plan_req.mutable_repo() = repo.repo;
  absl::StatusOr<v1::PlanResponse> plan = Call<v1::PlanRequest, v1::PlanResponse>(
      [&](auto* c, const auto& r, auto* o) { return stub_->Plan(c, r, o); }, plan_req, caller_);
  if (!plan.ok()) {
    return Fail("apply",
                absl::Status(plan.status().code(), LocateProblems(repo, plan.status().message())));
  }
  const std::string& project = repo.config.project.name();
  if (plan->diff().changes().empty()) {
    if (io_.json) {
      v1::ApplyResponse none;
      none.set_version(plan->base_version());
      io_.out << ToJson(none) << "\n";
    } else {
      io_.out << "No changes: project " << project << " is at version " << plan->base_version()
              << ".\n";
    }
    return 0;
  }
  if (!io_.json) {
    io_.out << "Applying to project " << project << " (at version " << plan->base_version()
            << "):\n";
    PrintDiff(plan->diff(), io_.out);
  }
  if (plan->diff().breaking() && !allow_breaking) {
    int n = BreakingCount(plan->diff());
    io_.err << "granary apply: nothing applied: " << n
            << (n == 1 ? " change breaks" : " changes break")
            << " consumers (see above); re-run with --allow-breaking to apply anyway\n";
    return 1;
  }
  v1::ApplyRequest req;
  *req.mutable_repo() = repo.repo;
  // The diff shown is the one applied: if anyone changed the project meanwhile, refuse.
  req.set_expected_version(plan->base_version());
  req.set_allow_breaking(allow_breaking);
  req.set_comment(comment);
  absl::StatusOr<v1::ApplyResponse> applied = Call<v1::ApplyRequest, v1::ApplyResponse>(
      [&](auto* c, const auto& r, auto* o) { return stub_->Apply(c, r, o); }, req, caller_);
  if (!applied.ok()) {
    if (absl::IsAborted(applied.status())) {
      return Fail("apply", absl::AbortedError(absl::StrCat(
                               "project ", project,
                               " changed while this plan was shown (someone else applied); "
                               "nothing applied: run granary apply again")));
    }
    return Fail("apply", applied.status());
  }
  if (io_.json) {
    io_.out << ToJson(*applied) << "\n";
  } else {
    io_.out << DiffCounts(applied->diff()) << ". Project " << project << " is now at version "
            << applied->version() << ".\n";
  }
  return 0;
}

int RegistryCommands::List(const std::string& project, catalog::ObjectKind kind,
                           const std::map<std::string, std::string>& tags) {
  Objects objects;
  if (kind == v1::PROJECT) {
    v1::ListProjectsRequest req;
    req.mutable_tags()->insert(tags.begin(), tags.end());
    do {
      absl::StatusOr<v1::ListProjectsResponse> page =
          Call<v1::ListProjectsRequest, v1::ListProjectsResponse>(
              [&](auto* c, const auto& r, auto* o) { return stub_->ListProjects(c, r, o); }, req,
              "");
      if (!page.ok()) return Fail("list", page.status());
      for (const auto& p : page->projects()) objects.emplace_back(new v1::Project(p));
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
  } else {
    v1::ListObjectsRequest req;
    req.set_project(project);
    req.mutable_tags()->insert(tags.begin(), tags.end());
    absl::StatusOr<Objects> listed = ListObjects(*stub_, kind, req);
    if (!listed.ok()) return Fail("list", listed.status());
    objects = std::move(*listed);
  }
  if (io_.json) {
    io_.out << "[";
    for (size_t i = 0; i < objects.size(); ++i) {
      io_.out << (i ? ",\n" : "\n") << ToJson(*objects[i]);
    }
    io_.out << (objects.empty() ? "]\n" : "\n]\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {ListHeader(kind)};
  for (const auto& m : objects) rows.push_back(ListRow(kind, *m));
  PrintTable(rows, io_.out);
  return 0;
}

int RegistryCommands::Describe(const std::string& project, catalog::ObjectKind kind,
                               const std::string& name) {
  v1::GetObjectRequest req;
  req.set_project(kind == v1::PROJECT ? name : project);
  req.set_name(name);
  absl::StatusOr<std::unique_ptr<Message>> object = GetObject(*stub_, kind, req);
  if (!object.ok()) return Fail("describe", object.status());
  if (io_.json) {
    io_.out << ToJson(**object) << "\n";
  } else {
    io_.out << "# " << catalog::KindName(kind) << " " << name << "\n"
            << MessageToYaml(**object) << "\n";
  }
  return 0;
}

int RegistryCommands::Delete(const std::string& project, catalog::ObjectKind kind,
                             const std::string& name, bool allow_breaking) {
  if (kind == v1::PROJECT) {
    v1::DeleteProjectRequest req;
    req.set_project(name);
    absl::StatusOr<v1::DeleteProjectResponse> deleted =
        Call<v1::DeleteProjectRequest, v1::DeleteProjectResponse>(
            [&](auto* c, const auto& r, auto* o) { return stub_->DeleteProject(c, r, o); }, req,
            caller_);
    if (!deleted.ok()) return Fail("delete", deleted.status());
    if (io_.json) {
      io_.out << ToJson(*deleted) << "\n";
    } else {
      io_.out << "Deleted project " << name << " (it was at version " << deleted->deleted_version()
              << ").\n";
    }
    return 0;
  }
  v1::DeleteObjectRequest req;
  req.set_project(project);
  req.set_kind(kind);
  req.set_name(name);
  req.set_allow_breaking(allow_breaking);
  absl::StatusOr<v1::DeleteObjectResponse> deleted =
      Call<v1::DeleteObjectRequest, v1::DeleteObjectResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub_->DeleteObject(c, r, o); }, req,
          caller_);
  if (!deleted.ok()) return Fail("delete", deleted.status());
  if (io_.json) {
    io_.out << ToJson(*deleted) << "\n";
  } else {
    PrintDiff(deleted->diff(), io_.out);
    io_.out << "Project " << project << " is now at version " << deleted->version() << ".\n";
  }
  return 0;
}

int RegistryCommands::Dump(const std::string& project) {
  v1::GetSnapshotRequest req;
  req.set_project(project);
  absl::StatusOr<v1::GetSnapshotResponse> snap =
      Call<v1::GetSnapshotRequest, v1::GetSnapshotResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub_->GetSnapshot(c, r, o); }, req, "");
  if (!snap.ok()) return Fail("registry-dump", snap.status());
  io_.out << ToJson(snap->snapshot()) << "\n";
  return 0;
}

int RegistryCommands::History(const std::string& project, int limit) {
  v1::ListHistoryRequest req;
  req.set_project(project);
  req.set_page_size(limit);
  absl::StatusOr<v1::ListHistoryResponse> history =
      Call<v1::ListHistoryRequest, v1::ListHistoryResponse>(
          [&](auto* c, const auto& r, auto* o) { return stub_->ListHistory(c, r, o); }, req, "");
  if (!history.ok()) return Fail("history", history.status());
  if (io_.json) {
    io_.out << ToJson(*history) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"VERSION", "COMMITTED", "CALLER", "CHANGES", "COMMENT"}};
  for (const auto& e : history->entries()) {
    rows.push_back({absl::StrCat(e.version()),
                    google::protobuf::util::TimeUtil::ToString(e.committed_time()), e.caller(),
                    DiffCounts(e.diff()), e.comment()});
  }
  PrintTable(rows, io_.out);
  return 0;
}

namespace {

// The project and registry for verbs that do not read definitions: flags first, then
// granary.yaml (needed only for what the flags leave out).
absl::StatusOr<std::pair<std::string, Target>> ProjectAndRegistry(const CLI::App* cmd,
                                                                  const RepoFlags& flags) {
  absl::StatusOr<RepoConfig> config = ReadRepoConfig(flags.repo);
  if (!config.ok()) {
    // A project named by its flag needs no granary.yaml.
    if (flags.project.empty() || !absl::IsNotFound(config.status())) return config.status();
    config = RepoConfig();
    config->dir = flags.repo;
  }
  ASSIGN_OR_RETURN(Targets targets,
                   ResolveTargets(GlobalFlagsOf(cmd), {.registry = flags.registry}, *config));
  return std::make_pair(Either(flags.project, config->project.name()), targets.registry);
}

// Runs `run` with the commands of the target's registry, or fails saying why there is none.
int OnTarget(const CLI::App* cmd, const std::string& verb, const RepoFlags& flags,
             const std::function<int(RegistryCommands&, const std::string&)>& run) {
  absl::StatusOr<std::pair<std::string, Target>> target = ProjectAndRegistry(cmd, flags);
  if (!target.ok()) return Failure(verb, target.status().message());
  RegistryCommands commands(target->second, Caller(), {std::cout, std::cerr, flags.json});
  return run(commands, target->first);
}

// The kind named on the command line; projects are not inside a project, so those verbs need
// no repository and no --project.
absl::StatusOr<catalog::ObjectKind> KindArgument(const std::string& text, RepoFlags& flags) {
  ASSIGN_OR_RETURN(catalog::ObjectKind kind, catalog::ParseKind(text));
  if (kind == v1::PROJECT && flags.project.empty()) flags.project = "-";
  return kind;
}

}  // namespace

void AddRegistryCommands(CLI::App& app, int* exit_code) {
  // Owned by the callbacks, which run after parsing, once.
  struct State {
    RepoFlags flags;
    bool allow_breaking = false;
    std::string comment, kind, name;
    std::vector<std::string> tags;
    int limit = 20;
  };
  auto s = std::make_shared<State>();

  auto definitions_verb = [&app, s, exit_code](const char* verb, const char* help) {
    CLI::App* cmd = app.add_subcommand(verb, help);
    AddRepoFlags(cmd, s->flags, /*reads_definitions=*/true);
    cmd->callback([cmd, s, exit_code, verb = std::string(verb)] {
      absl::StatusOr<LoadedRepo> repo = LoadRepo(s->flags.repo);
      if (!repo.ok()) return void(*exit_code = Failure(verb, repo.status().message()));
      absl::StatusOr<Targets> targets =
          ResolveTargets(GlobalFlagsOf(cmd), {.registry = s->flags.registry}, repo->config);
      if (!targets.ok()) return void(*exit_code = Failure(verb, targets.status().message()));
      RegistryCommands commands(targets->registry, Caller(), {std::cout, std::cerr, s->flags.json});
      *exit_code = verb == "plan" ? commands.Plan(*repo)
                                  : commands.Apply(*repo, s->allow_breaking, s->comment);
    });
    return cmd;
  };
  definitions_verb("plan", "Show what apply would change, field by field");
  CLI::App* apply = definitions_verb("apply", "Make the registry match the repository");
  apply->add_flag("--allow-breaking", s->allow_breaking, "Apply changes that break consumers");
  apply->add_option("--comment,-m", s->comment, "Why, for the history");

  CLI::App* list = app.add_subcommand(
      "list",
      "List objects: entities, data-sources, feature-views, on-demand-feature-views, "
      "feature-services, permissions or projects");
  list->add_option("kind", s->kind, "What to list")->required();
  list->add_option("--tags", s->tags, "Only objects with these tags (key=value, repeatable)");
  AddRepoFlags(list, s->flags);
  list->callback([list, s, exit_code] {
    absl::StatusOr<catalog::ObjectKind> kind = KindArgument(s->kind, s->flags);
    if (!kind.ok()) return void(*exit_code = Usage("list", kind.status().message()));
    std::map<std::string, std::string> tags;
    for (const std::string& t : s->tags) {
      std::pair<std::string, std::string> kv = absl::StrSplit(t, absl::MaxSplits('=', 1));
      if (kv.first.empty() || t.find('=') == std::string::npos) {
        return void(*exit_code = Usage("list", "--tags: expected key=value, got \"" + t + "\""));
      }
      tags.insert(kv);
    }
    *exit_code =
        OnTarget(list, "list", s->flags, [&](RegistryCommands& c, const std::string& project) {
          return c.List(project, *kind, tags);
        });
  });

  CLI::App* describe = app.add_subcommand("describe", "Show one object in full");
  describe->add_option("kind", s->kind, "Its kind (e.g. feature-view)")->required();
  describe->add_option("name", s->name, "Its name")->required();
  AddRepoFlags(describe, s->flags);
  describe->callback([describe, s, exit_code] {
    absl::StatusOr<catalog::ObjectKind> kind = KindArgument(s->kind, s->flags);
    if (!kind.ok()) return void(*exit_code = Usage("describe", kind.status().message()));
    *exit_code = OnTarget(describe, "describe", s->flags,
                          [&](RegistryCommands& c, const std::string& project) {
                            return c.Describe(project, *kind, s->name);
                          });
  });

  CLI::App* del = app.add_subcommand("delete", "Delete one object, or a whole project");
  del->add_option("kind", s->kind, "Its kind (e.g. feature-view, or project)")->required();
  del->add_option("name", s->name, "Its name")->required();
  del->add_flag("--allow-breaking", s->allow_breaking, "Delete even if it breaks consumers");
  AddRepoFlags(del, s->flags);
  del->callback([del, s, exit_code] {
    absl::StatusOr<catalog::ObjectKind> kind = KindArgument(s->kind, s->flags);
    if (!kind.ok()) return void(*exit_code = Usage("delete", kind.status().message()));
    *exit_code =
        OnTarget(del, "delete", s->flags, [&](RegistryCommands& c, const std::string& project) {
          return c.Delete(project, *kind, s->name, s->allow_breaking);
        });
  });

  CLI::App* dump = app.add_subcommand("registry-dump", "The project's whole catalog as JSON");
  AddRepoFlags(dump, s->flags);
  dump->callback([dump, s, exit_code] {
    *exit_code =
        OnTarget(dump, "registry-dump", s->flags,
                 [](RegistryCommands& c, const std::string& project) { return c.Dump(project); });
  });

  CLI::App* history = app.add_subcommand("history", "The project's committed changes");
  history->add_option("--limit,-n", s->limit, "How many, newest first (default 20)");
  AddRepoFlags(history, s->flags);
  history->callback([history, s, exit_code] {
    if (s->limit < 1 || s->limit > 1000) {
      return void(*exit_code = Usage("history", "--limit: between 1 and 1000"));
    }
    *exit_code = OnTarget(history, "history", s->flags,
                          [&](RegistryCommands& c, const std::string& project) {
                            return c.History(project, s->limit);
                          });
  });
}

}  // namespace granary::cli
