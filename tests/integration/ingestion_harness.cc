#include "tests/integration/ingestion_harness.h"

#include "absl/strings/str_cat.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "pqxx/pqxx"

#include "libs/base/grpc_status.h"
#include "libs/base/status_macros.h"
#include "libs/bus/streams.h"
#include "libs/config/reader.h"

namespace granary::integration {

absl::StatusOr<std::unique_ptr<IngestionHarness>> IngestionHarness::Start(HarnessOptions options) {
  std::unique_ptr<IngestionHarness> h(new IngestionHarness());
  h->options_ = options;
  h->base_time_ = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  ASSIGN_OR_RETURN(h->stack_, testing::TestStack::Start(options.stack));
  ASSIGN_OR_RETURN(h->ingestion_, h->stack_->Spawn("ingestion", {.section = options.ingestion}));
  if (options.serving) {
    ASSIGN_OR_RETURN(h->serving_, h->stack_->Spawn("serving"));
  }
  for (int i = 0; i < options.materializers; ++i) RETURN_IF_ERROR(h->StartMaterializer().status());
  bus::NatsOptions nats;
  nats.url = h->stack_->nats_url();
  nats.reconnect_wait = absl::Milliseconds(50);
  ASSIGN_OR_RETURN(h->nats_, bus::Connection::Open(nats));
  if (!h->nats_->WaitConnected(absl::Seconds(10))) return absl::UnavailableError("nats");
  ASSIGN_OR_RETURN(h->js_, bus::JetStream::Create(h->nats_));
  if (options.materializers == 0) {
    // As after a materializer ran once: its durable consumers exist, declared with the
    // stack's settings, and hold what is pushed (ingestion declares the streams; only the
    // materializer makes the consumers).
    ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromString(absl::StrCat(
                                              "jetstream: ", options.stack.jetstream)));
    bus::JetStreamSettings settings = bus::ReadJetStreamSettings(root.Section("jetstream"), nats);
    RETURN_IF_ERROR(root.Finish());
    for (const bus::ConsumerSpec& spec : bus::GranaryConsumers(settings)) {
      RETURN_IF_ERROR(h->js_->EnsureConsumer(spec).status());
    }
  }
  return h;
}

absl::StatusOr<testing::TestService*> IngestionHarness::StartMaterializer() {
  ASSIGN_OR_RETURN(testing::TestService * m,
                   stack_->Spawn("materializer", {.section = options_.materializer}));
  materializers_.push_back(m);
  return m;
}

ingestion::v1::PushRequest IngestionHarness::Request(const std::string& batch_id,
                                                     const std::vector<DriverRow>& rows,
                                                     ingestion::v1::PushTarget to) const {
  ingestion::v1::PushRequest req;
  req.set_push_source_name(kPushSource);
  req.set_batch_id(batch_id);
  req.set_to(to);
  auto& columns = *req.mutable_columns();
  for (const DriverRow& r : rows) {
    columns["driver_id"].add_val()->set_int64_val(r.driver);
    columns["event_timestamp"].add_val()->set_string_val(
        absl::FormatTime(absl::RFC3339_full, r.event, absl::UTCTimeZone()));
    columns["conv_rate"].add_val()->set_float_val(static_cast<float>(r.trips) / 1000);
    columns["acc_rate"].add_val()->set_float_val(static_cast<float>(r.trips) / 1000);
    columns["avg_daily_trips"].add_val()->set_int64_val(r.trips);
    if (r.created.has_value()) {
      columns["created"].add_val()->set_unix_timestamp_val(absl::ToUnixSeconds(*r.created));
    }
  }
  return req;
}

grpc::Status IngestionHarness::Push(const ingestion::v1::PushRequest& request,
                                    ingestion::v1::PushResponse* response) const {
  ingestion::v1::PushResponse ignored;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  return ingestion::v1::IngestionService::NewStub(ingestion_->channel())
      ->Push(&ctx, request, response != nullptr ? response : &ignored);
}

absl::StatusOr<std::map<int64_t, Served>> IngestionHarness::ReadAll(
    const std::vector<int64_t>& drivers) const {
  std::map<int64_t, Served> out;
  auto stub = serving::v1::ServingService::NewStub(serving_->channel());
  for (size_t begin = 0; begin < drivers.size(); begin += 500) {
    const size_t end = std::min(drivers.size(), begin + 500);
    serving::v1::GetOnlineFeaturesRequest req;
    req.mutable_features()->add_val(absl::StrCat(kView, ":avg_daily_trips"));
    for (size_t i = begin; i < end; ++i) {
      (*req.mutable_entities())["driver_id"].add_val()->set_int64_val(drivers[i]);
    }
    serving::v1::GetOnlineFeaturesResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    RETURN_IF_ERROR(base::FromGrpcStatus(stub->GetOnlineFeatures(&ctx, req, &resp)));
    const auto& column = resp.results(1);
    for (size_t i = begin; i < end; ++i) {
      const int row = static_cast<int>(i - begin);
      out[drivers[i]] =
          Served{.status = column.statuses(row),
                 .trips = column.values(row).int64_val(),
                 .event = absl::FromUnixSeconds(column.event_timestamps(row).seconds()) +
                          absl::Nanoseconds(column.event_timestamps(row).nanos())};
    }
  }
  return out;
}

absl::StatusOr<Served> IngestionHarness::Read(int64_t driver) const {
  ASSIGN_OR_RETURN(auto all, ReadAll({driver}));
  return all.at(driver);
}

int64_t IngestionHarness::Count(const std::string& sql) const {
  try {
    pqxx::connection conn(stack_->offline_conninfo());
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  } catch (const std::exception&) {
    return -1;
  }
}

int64_t IngestionHarness::StreamMessages(const std::string& stream) {
  absl::StatusOr<bus::StreamState> state = js_->GetStreamState(stream);
  return state.ok() ? static_cast<int64_t>(state->messages) : -1;
}

int64_t IngestionHarness::StreamLastSequence(const std::string& stream) {
  absl::StatusOr<bus::StreamState> state = js_->GetStreamState(stream);
  return state.ok() ? static_cast<int64_t>(state->last_sequence) : -1;
}

bool IngestionHarness::WriterCaughtUp(const std::string& durable) {
  absl::StatusOr<bus::StreamState> stream = js_->GetStreamState(bus::kPushStream);
  absl::StatusOr<bus::ConsumerState> consumer = js_->GetConsumerState(bus::kPushStream, durable);
  return stream.ok() && consumer.ok() && consumer->ack_floor >= stream->last_sequence;
}

absl::StatusOr<std::vector<events::v1::DeadLetter>> IngestionHarness::DeadLetters() {
  ASSIGN_OR_RETURN(bus::StreamState state, js_->GetStreamState(bus::kDeadLetterStream));
  std::vector<events::v1::DeadLetter> out;
  for (uint64_t seq = state.first_sequence; state.messages > 0 && seq <= state.last_sequence;
       ++seq) {
    absl::StatusOr<bus::StoredMessage> m = js_->GetMessage(bus::kDeadLetterStream, seq);
    if (absl::IsNotFound(m.status())) continue;
    RETURN_IF_ERROR(m.status());
    events::v1::DeadLetter& letter = out.emplace_back();
    if (!letter.ParseFromString(m->data)) return absl::DataLossError("undecodable dead letter");
  }
  return out;
}

}  // namespace granary::integration
