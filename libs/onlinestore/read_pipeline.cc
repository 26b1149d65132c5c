#include "libs/onlinestore/read_pipeline.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include <hiredis/hiredis.h>
#include <sys/eventfd.h>

#include "libs/base/log.h"
#include "libs/base/thread_name.h"

namespace granary::onlinestore {
namespace {

// A connection idle for longer than this is checked before use: a Redis restart closes idle
// connections, and one failed batch per restart is avoidable. Busy connections skip the check
// (a syscall) and would see the close on their next read anyway.
constexpr absl::Duration kIdleCheckAfter = absl::Milliseconds(100);

absl::Status ShuttingDown() { return absl::UnavailableError("online store: shutting down"); }

}  // namespace

struct ReadPipeline::Pending {
  AsyncRead* read;
  absl::Span<const HashGet> gets;
  absl::Time deadline;
  bool answered = false;
  // The first error reply among its HMGETs; reported once all of them are read.
  absl::Status error;

  void Answer(absl::Status status) {
    if (answered) return;
    answered = true;
    read->Done(std::move(status));
  }
};

struct ReadPipeline::Batch {
  std::vector<Pending> pending;
  // Reads ordered by deadline: the next one to expire is the first not yet answered.
  std::vector<size_t> by_deadline;
  size_t next_expiry = 0;
  absl::Time started;
  absl::Time give_up;
  // Where the reading stands: get `get` of pending[read], its reply announced to the sink
  // (Replies::Expect) or not yet.
  size_t read = 0;
  size_t get = 0;
  bool expecting = false;
  size_t gets_read = 0;
  // Sent, and its replies not all read.
  bool active = false;

  void Start(absl::Time now, absl::Duration command_timeout) {
    by_deadline.resize(pending.size());
    for (size_t i = 0; i < pending.size(); ++i) by_deadline[i] = i;
    std::stable_sort(by_deadline.begin(), by_deadline.end(),
                     [&](size_t a, size_t b) { return pending[a].deadline < pending[b].deadline; });
    next_expiry = 0;
    started = now;
    give_up = now + command_timeout;
    read = 0;
    get = 0;
    expecting = false;
    gets_read = 0;
    active = true;
  }
};

std::string EncodeFields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& field : fields) {
    absl::StrAppend(&out, "$", field.size(), "\r\n");
    out.append(field);
    out.append("\r\n");
  }
  return out;
}

// Routes the parts of each reply, as hiredis parses them, to the read they belong to. An
// HMGET's values go on as they come; a whole hash's (HGETALL: field, value, field, value ...)
// are held until its last one, then handed on in the order of the get's fields.
class ReadPipeline::Replies : public redis::ReplySink {
 public:
  explicit Replies(const std::string& address) : address_(address) {}

  // Whether Redis ever refused an HGETALL for want of permission (NOPERM).
  bool whole_refused() const { return whole_refused_; }

  // The next reply is for get `get` of `pending`, sent whole if it asked and `whole_allowed`.
  void Expect(Pending* pending, size_t get, bool whole_allowed) {
    pending_ = pending;
    get_ = get;
    // An answered read may be gone already: its gets are not looked at again.
    const HashGet* g = pending->answered ? nullptr : &pending->gets[get];
    fields_ = g == nullptr ? 0 : g->fields->size();
    positions_ = g == nullptr || !whole_allowed ? nullptr : g->whole_hash;
    if (positions_ != nullptr) {
      held_.assign(fields_, {0, kAbsent});
      bytes_.clear();
    }
  }

  void OnReply(int type, const char* data, size_t size) override {
    if (Ignored()) return;
    absl::string_view text(data == nullptr ? "" : data, data == nullptr ? 0 : size);
    if (type == REDIS_REPLY_ERROR && absl::StartsWith(text, "WRONGTYPE")) {
      // This key holds something else than a hash: that get fails, the read goes on.
      pending_->read->OnGetError(get_, text);
    } else if (type == REDIS_REPLY_ERROR) {
      // Refused as a whole (no permission, still loading, out of memory): the store cannot be
      // read right now. A user refused HGETALL alone is read by field from the next batch on.
      // ("NOPERM ... no permissions to run the 'hgetall' command"; not a refused key pattern).
      whole_refused_ =
          whole_refused_ || (positions_ != nullptr && absl::StartsWith(text, "NOPERM") &&
                             absl::StrContains(text, "'hgetall'"));
      pending_->error = absl::UnavailableError(
          absl::StrCat("redis at ", address_, " refused ", Command(), ": ", text));
    } else {
      Unexpected();
    }
  }
  void OnArray(size_t elements) override {
    if (Ignored()) return;
    if (positions_ == nullptr) {
      if (elements != fields_) Unexpected();
      return;
    }
    elements_ = elements;
    if (elements % 2 != 0) {
      Unexpected();
    } else if (elements == 0) {
      HandOnWholeHash();  // no such key: every field absent
    }
  }
  void OnElement(size_t index, int type, const char* data, size_t size) override {
    if (Ignored()) return;
    if (positions_ != nullptr) {
      OnWholeHashElement(index, type, data, size);
      return;
    }
    if (index >= fields_ || (type != REDIS_REPLY_STRING && type != REDIS_REPLY_NIL)) {
      Unexpected();
      return;
    }
    pending_->read->OnField(get_, index, type == REDIS_REPLY_STRING ? data : nullptr, size);
  }

 private:
  static constexpr size_t kAbsent = static_cast<size_t>(-1);
  static constexpr uint32_t kNotAsked = static_cast<uint32_t>(-1);

  // An answered read may be gone; a failed one is answered once all its replies are read.
  bool Ignored() const { return pending_->answered || !pending_->error.ok(); }
  const char* Command() const { return positions_ != nullptr ? "HGETALL" : "HMGET"; }
  void Unexpected() {
    pending_->error = absl::InternalError(
        absl::StrCat("redis at ", address_, ": unexpected reply to ", Command()));
  }

  void OnWholeHashElement(size_t index, int type, const char* data, size_t size) {
    if (index >= elements_ || type != REDIS_REPLY_STRING) {
      Unexpected();
      return;
    }
    if (index % 2 == 0) {
      auto it = positions_->find(absl::string_view(data, size));
      // A position past the get's fields would be the caller's bug: such a field is not asked.
      asked_ = it == positions_->end() || it->second >= held_.size() ? kNotAsked : it->second;
    } else if (asked_ != kNotAsked) {
      held_[asked_] = {bytes_.size(), size};
      bytes_.append(data, size);
    }
    if (index + 1 == elements_) HandOnWholeHash();
  }

  void HandOnWholeHash() {
    for (size_t field = 0; field < fields_; ++field) {
      const auto [offset, size] = held_[field];
      if (size == kAbsent) {
        pending_->read->OnField(get_, field, nullptr, 0);
      } else {
        pending_->read->OnField(get_, field, bytes_.data() + offset, size);
      }
    }
  }

  const std::string& address_;
  Pending* pending_ = nullptr;
  size_t get_ = 0;
  size_t fields_ = 0;
  // A whole-hash get: where its fields are, the reply's length, the field just named, and
  // each asked field's value (offset and size in bytes_, or kAbsent).
  const FieldPositions* positions_ = nullptr;
  size_t elements_ = 0;
  uint32_t asked_ = kNotAsked;
  std::vector<std::pair<size_t, size_t>> held_;
  std::string bytes_;
  bool whole_refused_ = false;
};

ReadPipeline::ReadPipeline(ReadPipelineOptions options)
    : options_(std::move(options)),
      address_(absl::StrCat(options_.redis.host, ":", options_.redis.port)),
      idle_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      deadline_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      backoff_({.initial = absl::Milliseconds(50), .max = absl::Seconds(1)}),
      replies_(std::make_unique<Replies>(address_)),
      batch_(std::make_unique<Batch>()) {
  thread_ = std::thread([this] {
    base::NameThisThread("redis-read");
    Loop();
  });
}

ReadPipeline::~ReadPipeline() {
  stopping_.store(true);
  Signal(idle_fd_);
  // Also ends the I/O thread's wait for the replies of a batch (one a caller left to it).
  Signal(deadline_fd_);
  thread_.join();
  for (int fd : {idle_fd_, deadline_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void ReadPipeline::Submit(AsyncRead* read) {
  // Everything asked of the read is asked before it is queued: from then on the I/O thread may
  // answer it at once and its owner free it (serving's reads delete themselves in Done). Asking
  // after queueing crashed serving under load, the caller's thread preempted in between.
  const int64_t deadline = absl::ToUnixNanos(read->deadline());
  const bool may_read_on_caller = options_.read_on_caller_when_idle && read->MayReadOnCaller();
  AsyncRead* head = submitted_.load(std::memory_order_relaxed);
  do {
    read->next_queued_ = head;
  } while (!submitted_.compare_exchange_weak(head, read));
  int64_t earliest = submitted_earliest_.load();
  while (deadline < earliest && !submitted_earliest_.compare_exchange_weak(earliest, deadline)) {
  }
  // Nobody is reading: read on this thread, without handing over to the I/O thread (the
  // usual case when not busy, and a thread wake-up less on every call). One batch only; what
  // queues meanwhile is left to the I/O thread, so a caller never stays for long.
  if (may_read_on_caller && open_.load() && !running_.load() && !running_.exchange(true)) {
    // Looked at again now that the connection is ours: a caller that left its batch to the
    // I/O thread cleared it before letting go.
    bool handed_over = false;
    if (open_.load() && Usable(absl::Now())) {
      std::vector<AsyncRead*> batch;
      TakeSubmitted();
      TakeBatch(batch);
      handed_over = !RunBatch(batch, absl::Now() + options_.caller_wait);
    }
    open_.store(Sound());
    bool more = handed_over || !backlog_.empty();
    running_.store(false);
    if (more || submitted_.load() != nullptr) Signal(idle_fd_);
    return;
  }
  // Sequentially consistent with the I/O thread's "idle, then look at the queue" and "publish
  // the wait, then look at the deadlines": either it sees this read, or this sees it waiting.
  // Both: the I/O thread may sleep while a caller reads on its own thread, waiting for Redis.
  if (idle_.load() && idle_.exchange(false)) Signal(idle_fd_);
  if (deadline < waiting_until_.load()) {
    waiting_until_.store(INT64_MIN);  // one wake-up per wait is enough
    Signal(deadline_fd_);
  }
}

void ReadPipeline::Signal(int fd) {
  uint64_t one = 1;
  if (fd >= 0) (void)!write(fd, &one, sizeof(one));
}

void ReadPipeline::Drain(int fd) {
  uint64_t count;
  while (read(fd, &count, sizeof(count)) > 0) {
  }
}

void ReadPipeline::TakeSubmitted() {
  // Reset before taking: a read submitted in between is taken now and only makes the next
  // wait end early; one submitted after is counted.
  submitted_earliest_.store(INT64_MAX);
  AsyncRead* head = submitted_.exchange(nullptr);
  size_t first = backlog_.size();
  for (; head != nullptr; head = head->next_queued_) backlog_.push_back(head);
  std::reverse(backlog_.begin() + static_cast<ptrdiff_t>(first), backlog_.end());
}

void ReadPipeline::TakeBatch(std::vector<AsyncRead*>& batch) {
  // Up to the cap, but always at least one read, however large.
  size_t gets = 0;
  while (!backlog_.empty() &&
         (batch.empty() || gets + backlog_.front()->gets().size() <= options_.max_batch_gets)) {
    gets += backlog_.front()->gets().size();
    batch.push_back(backlog_.front());
    backlog_.pop_front();
  }
}

void ReadPipeline::Sleep(bool even_with_work) {
  idle_.store(true);
  if (even_with_work || (submitted_.load() == nullptr && !stopping_.load())) {
    pollfd wait = {.fd = idle_fd_, .events = POLLIN, .revents = 0};
    // Without an eventfd (the process ran out of descriptors), look again every millisecond.
    (void)poll(&wait, 1, idle_fd_ < 0 ? 1 : -1);
    Drain(idle_fd_);
  }
  idle_.store(false);
}

void ReadPipeline::Loop() {
  std::vector<AsyncRead*> batch;
  for (;;) {
    if (stopping_.load()) {
      // No Submit runs any more (see the destructor): the connection is ours.
      while (running_.exchange(true)) {
      }
      if (batch_->active) {
        Fail(batch_->pending, ShuttingDown());
        batch_->active = false;
      }
      TakeSubmitted();
      for (AsyncRead* read : backlog_) {
        read->Done(ShuttingDown());
      }
      backlog_.clear();
      return;
    }
    // The connection and backlog_ belong to whoever holds running_: this thread, or a caller
    // reading on its own thread, which wakes this one if it leaves work behind.
    if (running_.exchange(true)) {
      Sleep(/*even_with_work=*/true);
      continue;
    }
    TakeSubmitted();
    if (batch_->active) {
      // A caller's batch that Redis had not answered in time: read the rest of it here.
      Receive(absl::InfiniteFuture());
      EndBatch();
      open_.store(Sound());
    }
    // Once stopping, what is queued is failed at the top of the loop, not sent.
    while (!backlog_.empty() && !stopping_.load()) {
      TakeBatch(batch);
      RunBatch(batch, absl::InfiniteFuture());
      open_.store(Sound());
      batch.clear();
      TakeSubmitted();
    }
    running_.store(false);
    // A read may have arrived between the last take and the release, its caller seeing the
    // connection busy: look once more before sleeping.
    if (submitted_.load() == nullptr) Sleep(/*even_with_work=*/false);
  }
}

bool ReadPipeline::Sound() const {
  return !batch_->active && connection_ != nullptr && !connection_->broken();
}

bool ReadPipeline::RunBatch(std::vector<AsyncRead*>& batch, absl::Time caller_until) {
  absl::Time now = absl::Now();
  std::vector<Pending>& pending = batch_->pending;
  pending.clear();
  pending.reserve(batch.size());
  for (AsyncRead* read : batch) {
    Pending p{.read = read, .gets = read->gets(), .deadline = read->deadline()};
    if (p.deadline <= now) {
      p.Answer(absl::DeadlineExceededError("the deadline passed before Redis was asked"));
    } else if (p.gets.empty()) {
      p.Answer(absl::OkStatus());
    } else {
      pending.push_back(p);
    }
  }
  if (pending.empty() || !Connect(pending, now)) return true;
  // Connecting took time: reads whose deadline passed meanwhile are not sent.
  now = absl::Now();
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [&](Pending& p) {
                                 if (p.deadline > now) return false;
                                 p.Answer(absl::DeadlineExceededError(
                                     "the deadline passed while connecting to Redis"));
                                 return true;
                               }),
                pending.end());
  if (pending.empty()) return true;
  absl::Status deadline_set = connection_->SetDeadline(now + options_.redis.command_timeout);
  if (!deadline_set.ok()) {
    Fail(pending, deadline_set);
    return true;
  }
  Send(pending);
  if (connection_ == nullptr) return true;
  batch_->Start(now, options_.redis.command_timeout);
  if (!Receive(caller_until)) return false;
  EndBatch();
  return true;
}

void ReadPipeline::EndBatch() {
  batch_->active = false;
  last_used_ = absl::Now();
  if (whole_hash_allowed_ && replies_->whole_refused()) {
    // A Redis user whose rules predate HGETALL (deploy/redis/users.acl): the reads of this
    // batch that asked for it failed; every later one reads by field.
    whole_hash_allowed_ = false;
    base::LogWarning("redis refuses HGETALL to this user: hashes are read by field from now on")
        .With("redis", address_)
        .With("fix", "give the user +hgetall (deploy/redis/users.acl)");
  }
}

bool ReadPipeline::Usable(absl::Time now) {
  if (connection_ != nullptr && (connection_->broken() || (now - last_used_ > kIdleCheckAfter &&
                                                           connection_->StaleWhileIdle()))) {
    connection_.reset();
  }
  return connection_ != nullptr;
}

bool ReadPipeline::Connect(std::vector<Pending>& pending, absl::Time now) {
  if (Usable(now)) return true;
  if (now < retry_at_) {
    Fail(pending, last_error_);
    return false;
  }
  // Connecting and authenticating never outlast the earliest deadline: no read is answered
  // late because of them (a Redis that answers at all answers well within it).
  absl::Time earliest = absl::InfiniteFuture();
  for (const Pending& p : pending) earliest = std::min(earliest, p.deadline);
  redis::RedisOptions options = options_.redis;
  // At least 1 ms: a socket timeout under a microsecond would become 0, which means "never".
  const absl::Duration left = std::max(earliest - now, absl::Milliseconds(1));
  options.connect_timeout = std::min(options.connect_timeout, left);
  options.command_timeout = std::min(options.command_timeout, left);
  auto opened = redis::Connection::Open(options);
  if (!opened.ok()) {
    last_error_ = opened.status();
    retry_at_ = absl::Now() + backoff_.Next();
    Fail(pending, last_error_);
    return false;
  }
  connection_ = std::move(*opened);
  connection_->set_command_timeout(options_.redis.command_timeout);
  connection_->SetReplySink(replies_.get());
  backoff_.Reset();
  return true;
}

void ReadPipeline::Send(std::vector<Pending>& pending) {
  // The whole batch in the Redis protocol, into one buffer: HMGET, the key, the fields (kept
  // encoded by the caller when it can, since they repeat across reads), or HGETALL and the key
  // for a get that reads its hash whole.
  commands_.clear();
  for (const Pending& p : pending) {
    for (const HashGet& get : p.gets) {
      if (get.whole_hash != nullptr && whole_hash_allowed_) {
        absl::StrAppend(&commands_, "*2\r\n$7\r\nHGETALL\r\n$", get.key.size(), "\r\n");
        commands_.append(get.key.data(), get.key.size());
        commands_.append("\r\n");
        continue;
      }
      absl::StrAppend(&commands_, "*", get.fields->size() + 2, "\r\n$5\r\nHMGET\r\n$",
                      get.key.size(), "\r\n");
      commands_.append(get.key.data(), get.key.size());
      commands_.append("\r\n");
      if (get.encoded_fields != nullptr) {
        commands_.append(*get.encoded_fields);
      } else {
        commands_.append(EncodeFields(*get.fields));
      }
    }
  }
  absl::Status status = connection_->AppendFormatted(commands_);
  if (status.ok()) status = connection_->Flush();
  if (!status.ok()) Fail(pending, status);
}

bool ReadPipeline::Receive(absl::Time caller_until) {
  Batch& b = *batch_;
  std::vector<Pending>& pending = b.pending;
  for (; b.read < pending.size(); ++b.read, b.get = 0) {
    Pending& p = pending[b.read];
    for (; b.get < p.gets.size(); ++b.get) {
      if (!b.expecting) {
        replies_->Expect(&p, b.get, whole_hash_allowed_);
        b.expecting = true;
      }
      for (;;) {
        while (b.next_expiry < b.by_deadline.size() &&
               pending[b.by_deadline[b.next_expiry]].answered) {
          ++b.next_expiry;
        }
        absl::Time until = std::min(b.give_up, caller_until);
        if (b.next_expiry < b.by_deadline.size()) {
          until = std::min(until, pending[b.by_deadline[b.next_expiry]].deadline);
        }
        absl::StatusOr<bool> got = Wait(until);
        if (!got.ok()) {
          Fail(pending, got.status());
          return true;
        }
        if (*got) break;
        absl::Time now = absl::Now();
        if (stopping_.load()) {
          Fail(pending, ShuttingDown());
          return true;
        }
        if (now >= b.give_up) {
          Fail(pending, absl::UnavailableError(
                            absl::StrCat("redis at ", address_, " did not answer within ",
                                         absl::FormatDuration(options_.redis.command_timeout))));
          return true;
        }
        for (size_t i = b.next_expiry; i < b.by_deadline.size(); ++i) {
          Pending& late = pending[b.by_deadline[i]];
          if (late.deadline > now) break;
          late.Answer(absl::DeadlineExceededError("the deadline passed while Redis was answering"));
        }
        // A caller's thread has waited long enough: the I/O thread goes on from here.
        if (now >= caller_until) return false;
      }
      b.expecting = false;
    }
    b.gets_read += p.gets.size();
    p.Answer(p.error);
  }
  if (options_.on_round_trip) options_.on_round_trip(absl::Now() - b.started, b.gets_read);
  return true;
}

absl::StatusOr<bool> ReadPipeline::Wait(absl::Time until) {
  for (const AsyncRead* queued : backlog_) until = std::min(until, queued->deadline());
  waiting_until_.store(absl::ToUnixNanos(until));
  until = std::min(until, absl::FromUnixNanos(submitted_earliest_.load()));
  absl::StatusOr<bool> got = connection_->ReadStreamedUntil(until, deadline_fd_);
  waiting_until_.store(INT64_MIN);
  if (got.ok() && !*got) {
    Drain(deadline_fd_);
    ExpireQueued(absl::Now());
  }
  return got;
}

void ReadPipeline::ExpireQueued(absl::Time now) {
  TakeSubmitted();
  std::deque<AsyncRead*> keep;
  for (AsyncRead* read : backlog_) {
    if (read->deadline() <= now) {
      read->Done(absl::DeadlineExceededError(
          "the deadline passed while waiting for Redis to answer earlier reads"));
    } else {
      keep.push_back(read);
    }
  }
  backlog_.swap(keep);
}

void ReadPipeline::Fail(std::vector<Pending>& pending, const absl::Status& status) {
  // Whatever failed, the connection may be mid-reply: it cannot carry another batch. The next
  // batch connects again at once; only failed connects back off (see Connect).
  connection_.reset();
  absl::Status answer = status;
  if (answer.code() != absl::StatusCode::kUnavailable) {
    answer = absl::UnavailableError(absl::StrCat("online store: ", status.message()));
  }
  for (Pending& p : pending) p.Answer(answer);
}

}  // namespace granary::onlinestore
