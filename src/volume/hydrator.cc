#include "volume/hydrator.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>

namespace cairn::volume {
namespace {

constexpr int64_t kSleepSliceNanos =
    50'000'000;  // Stop() waits at most this for a throttled thread

}  // namespace

Result<std::shared_ptr<Hydrator>> Hydrator::Start(Volume& volume,
                                                  std::shared_ptr<BlockSource> source,
                                                  const HydratorOptions& options) {
  if (source == nullptr)
    return InvalidArgumentError("hydrating " + volume.id().str() + ": no source");
  const uint32_t bs = source->BlockSize();
  const uint64_t src_size = source->Size();
  if (bs == 0 || !std::has_single_bit(bs)) {
    return InvalidArgumentError(
        fmt::format("hydrating {} from {}: block size {} is not a power of two", volume.id().str(),
                    source->Describe(), bs));
  }
  if (options.threads < 1) {
    return InvalidArgumentError(fmt::format("hydrating {}: threads {} must be at least 1",
                                            volume.id().str(), options.threads));
  }
  if (volume.Size() < src_size) {
    return InvalidArgumentError(fmt::format(
        "--size: volume {} has {} bytes, smaller than its source {} ({} bytes); make it at least "
        "as large",
        volume.id().str(), volume.Size(), source->Describe(), src_size));
  }
  const std::string path = volume.dir() + "/" + std::string(kHydrationFile);
  ASSIGN_OR_RETURN(std::optional<HydrationState> loaded, HydrationState::Load(path));
  HydrationState state;
  if (loaded.has_value()) {
    state = std::move(*loaded);
    if (state.block_size != bs || state.source_size != src_size) {
      return FailedPreconditionError(fmt::format(
          "{} was made for a source of {} bytes in blocks of {}, but {} has {} bytes in blocks of "
          "{}: hydrate the volume from the snapshot it was created from",
          path, state.source_size, state.block_size, source->Describe(), src_size, bs));
    }
  } else {
    // New: holes of the source are local already (the data file reads
    // zeros there); everything else must be fetched.
    state = HydrationState::Empty(bs, src_size);
    for (auto& w : state.words) w = ~uint64_t{0};
    ASSIGN_OR_RETURN_CTX(auto extents, source->DataExtents(),
                         "listing the data extents of " + source->Describe());
    for (const DeviceExtent& e : extents) {
      if (e.length == 0 || e.offset >= src_size) continue;
      const uint64_t end = std::min(e.offset + e.length, src_size);
      for (uint64_t b = e.offset / bs; b <= (end - 1) / bs; ++b) {
        state.words[b / 64] &= ~(uint64_t{1} << (b % 64));
      }
    }
    state.total_bytes = state.MissingBytes();
    state.done = state.total_bytes == 0;
    RETURN_IF_ERROR(state.Save(path));
  }
  std::shared_ptr<Hydrator> h(
      new Hydrator(volume, std::move(source), std::move(state), loaded.has_value(), options));
  if (h->done_.load()) {
    h->source_.reset();
    return h;
  }
  volume.SetFiller(h);
  std::lock_guard lock(h->threads_mu_);
  for (int i = 0; i < options.threads; ++i) h->threads_.emplace_back([p = h.get()] { p->Run(); });
  return h;
}

Hydrator::Hydrator(Volume& volume, std::shared_ptr<BlockSource> source, HydrationState state,
                   bool resumed, const HydratorOptions& options)
    : volume_(volume),
      source_(std::move(source)),
      source_name_(source_->Describe()),
      options_(options),
      clock_(options.clock ? options.clock : Clock::Real()),
      path_(volume.dir() + "/" + std::string(kHydrationFile)),
      block_count_(state.block_count()),
      started_nanos_(clock_->NowNanos()),
      resumed_(resumed),
      state_(std::move(state)) {
  durable_ = state_.words;
  missing_bytes_ = state_.MissingBytes();
  done_at_start_ = state_.total_bytes - std::min(missing_bytes_, state_.total_bytes);
  done_.store(state_.done);
  last_save_nanos_.store(started_nanos_);
  SetRate(options.rate_bytes_per_sec);
}

Hydrator::~Hydrator() { Abandon(); }

Status Hydrator::Fetch(uint64_t b) {
  const uint64_t off = b * state_.block_size;
  Buffer buf(state_.BlockBytes(b));
  Status s = source_->Read(off, buf);
  // Once more at once: a source with read-ahead may hand back a failure it
  // met before (S3 down then, back now); the second read fetches afresh.
  if (!s.ok()) s = source_->Read(off, buf);
  if (!s.ok()) {
    return s.WithContext(fmt::format("hydrating {} block {} (offset {}) from {}",
                                     volume_.id().str(), b, off, source_name_));
  }
  return Fill(b, buf);
}

Status Hydrator::Fill(uint64_t b, ByteSpan data) {
  fetched_bytes_.fetch_add(data.size());
  fetched_blocks_.fetch_add(1);
  // Not local means never written by a client: the data file holds zeros
  // or, after a crash, this same content.
  if (IsAllZero(data)) return Status::OK();
  const uint64_t off = b * state_.block_size;
  Status s = volume_.FillLocal(off, data);
  if (s.ok()) return s;
  return s.WithContext(fmt::format("hydrating {} block {} (offset {}) from {}", volume_.id().str(),
                                   b, off, source_name_));
}

void Hydrator::MarkLocalLocked(uint64_t b) {
  if (state_.Test(b)) return;
  state_.Set(b);
  missing_bytes_ -= state_.BlockBytes(b);
  ++mark_seq_;
}

Status Hydrator::Prepare(uint64_t offset, uint64_t length, bool overwrite) {
  if (done_.load(std::memory_order_acquire) || length == 0) return Status::OK();
  const uint64_t limit = state_.source_size;  // immutable
  if (offset >= limit) return Status::OK();   // beyond the source: zeros
  const uint64_t bs = state_.block_size;
  const uint64_t end = std::min(offset + length, limit);
  bool need_persist = false;
  uint64_t need_seq = 0;
  for (uint64_t b = offset / bs; b <= (end - 1) / bs; ++b) {
    const uint64_t b_start = b * bs;
    const uint64_t b_end = b_start + state_.BlockBytes(b);
    const bool covers = overwrite && offset <= b_start && offset + length >= b_end;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return busy_.count(b) == 0; });
    if (!state_.Test(b)) {
      if (covers) {
        MarkLocalLocked(b);  // the write brings the whole block: nothing to fetch
      } else {
        busy_.insert(b);
        lock.unlock();
        Status s = Fetch(b);
        lock.lock();
        busy_.erase(b);
        cv_.notify_all();
        if (!s.ok()) return s;
        MarkLocalLocked(b);
      }
    }
    if (overwrite && ((durable_[b / 64] >> (b % 64)) & 1) == 0) {
      need_persist = true;
      need_seq = mark_seq_;
    }
  }
  // Invariant (a): the marks of the blocks this write touches are durable
  // before the write lands.
  if (need_persist) return Persist(need_seq);
  return Status::OK();
}

Status Hydrator::Persist(uint64_t seq) {
  std::lock_guard persist(persist_mu_);
  HydrationState copy;
  uint64_t copy_seq = 0;
  {
    std::lock_guard lock(mu_);
    const bool finish = missing_bytes_ == 0 && !state_.done;
    if (durable_seq_ >= seq && !finish) return Status::OK();
    copy = state_;
    copy_seq = mark_seq_;
    copy.done = missing_bytes_ == 0;
  }
  // Invariant (b): fill data first, marks second.
  RETURN_IF_ERROR(
      volume_.Flush().WithContext("saving the hydration state of " + volume_.id().str()));
  RETURN_IF_ERROR(copy.Save(path_));
  unsaved_bytes_.store(0);
  last_save_nanos_.store(clock_->NowNanos());
  std::shared_ptr<BlockSource> drop;  // released after the locks
  std::lock_guard lock(mu_);
  durable_ = copy.words;
  durable_seq_ = std::max(durable_seq_, copy_seq);
  if (copy.done && !state_.done) {
    state_.done = true;
    done_.store(true, std::memory_order_release);
    // Every block is local and its mark durable: the volume needs no
    // filler any more, and Fetch never runs again.
    volume_.SetFiller(nullptr);
    drop = std::move(source_);
    cv_.notify_all();
  }
  return Status::OK();
}

bool Hydrator::ClaimNext(uint64_t max, uint64_t& first, uint64_t& count) {
  auto free = [&](uint64_t b) { return !state_.Test(b) && busy_.count(b) == 0; };
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_ || !error_.ok() || missing_bytes_ == 0) return false;
    for (; cursor_ < block_count_; ++cursor_) {
      if (!free(cursor_)) continue;
      first = cursor_;
      count = 0;
      while (count < max && cursor_ < block_count_ && free(cursor_)) {
        busy_.insert(cursor_++);
        ++count;
      }
      return true;
    }
    // The end: go round again for blocks skipped while a reader fetched
    // them (its fetch may have failed); wait while all left are in flight.
    bool any = false;
    for (uint64_t b = 0; b < block_count_ && !any; ++b) {
      if (free(b)) {
        cursor_ = b;
        any = true;
      }
    }
    if (!any) cv_.wait(lock);
  }
}

uint64_t Hydrator::BatchBlocks() {
  uint64_t bytes = options_.batch_bytes;
  {
    std::lock_guard lock(rate_mu_);
    if (rate_ != 0) bytes = std::min(bytes, rate_ / 10);
  }
  return std::max<uint64_t>(1, bytes / state_.block_size);
}

void Hydrator::Throttle(uint64_t bytes) {
  int64_t wait = 0;
  const uint64_t gen = rate_gen_.load();
  {
    std::lock_guard lock(rate_mu_);
    if (!bucket_) return;
    wait = bucket_->Reserve(static_cast<double>(bytes), clock_->NowNanos());
  }
  while (wait > 0 && rate_gen_.load() == gen) {  // a new rate ends the wait
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    const int64_t step = std::min(wait, kSleepSliceNanos);
    clock_->SleepNanos(step);
    wait -= step;
  }
}

void Hydrator::Run() {
  if (options_.background_nice != 0) {
    // Best effort: a thread that cannot lower its priority still hydrates.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.background_nice);
  }
  for (;;) {
    const uint64_t max = BatchBlocks();
    Throttle(max * state_.block_size);
    uint64_t first = 0;
    uint64_t count = 0;
    if (!ClaimNext(max, first, count)) break;
    // Each block is released as soon as it is written, so a reader waiting
    // for one waits for that block only.
    std::vector<bool> handled(count);
    uint64_t filled_blocks = 0;
    Status s = source_->ReadBlocks(first, count, [&](uint64_t b, ByteSpan data) -> Status {
      if (b < first || b - first >= count || handled[b - first]) {
        return InternalError(fmt::format("{} handed over block {} unasked (run {}+{})",
                                         source_name_, b, first, count));
      }
      Status filled = Fill(b, data);
      std::lock_guard lock(mu_);
      busy_.erase(b);
      handled[b - first] = true;
      if (filled.ok()) {
        MarkLocalLocked(b);
        ++filled_blocks;
      }
      cv_.notify_all();
      return filled;
    });
    uint64_t seq = 0;
    {
      std::lock_guard lock(mu_);
      for (uint64_t i = 0; i < count; ++i) {
        if (!handled[i]) busy_.erase(first + i);
      }
      seq = mark_seq_;
      cv_.notify_all();
    }
    if (!s.ok()) {
      Finish(s.WithContext(fmt::format("hydrating {} from {}", volume_.id().str(), source_name_)));
      return;
    }
    const uint64_t bytes = filled_blocks * state_.block_size;
    const uint64_t unsaved = unsaved_bytes_.fetch_add(bytes) + bytes;
    if (unsaved >= options_.persist_every_bytes ||
        clock_->NowNanos() - last_save_nanos_.load() >= options_.persist_every_nanos) {
      if (Status p = Persist(seq); !p.ok()) {
        Finish(p);
        return;
      }
    }
  }
  bool finished = false;
  uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    finished = !stop_ && error_.ok() && missing_bytes_ == 0;
    seq = mark_seq_;
  }
  if (finished) Finish(Persist(seq));
}

void Hydrator::Finish(const Status& error) {
  if (error.ok()) return;
  std::lock_guard lock(mu_);
  if (error_.ok()) error_ = error;
  cv_.notify_all();
}

Hydrator::Progress Hydrator::progress() const {
  Progress p;
  std::lock_guard lock(mu_);
  p.total_bytes = state_.total_bytes;
  p.done_bytes = state_.total_bytes - std::min(missing_bytes_, state_.total_bytes);
  const double secs = static_cast<double>(clock_->NowNanos() - started_nanos_) / 1e9;
  if (secs > 0) p.bytes_per_sec = static_cast<double>(fetched_bytes_.load()) / secs;
  p.done = done_.load();
  p.error = error_;
  return p;
}

Status Hydrator::WaitDone() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_.load() || !error_.ok() || stopped_; });
  if (done_.load()) return Status::OK();
  if (!error_.ok()) return error_;
  return AbortedError("hydration of " + volume_.id().str() +
                      " was stopped before it finished (it resumes when the volume is opened "
                      "again)");
}

Status Hydrator::Retry() {
  // threads_mu_ keeps a concurrent Stop() from missing the new threads: it
  // either sets stop_ before the check below or joins what this starts.
  std::lock_guard threads(threads_mu_);
  auto aborted = [&] {
    return AbortedError("hydration of " + volume_.id().str() +
                        " was stopped; it resumes when the volume is opened again");
  };
  {
    std::lock_guard lock(mu_);
    if (stop_ || stopped_) return aborted();
    if (done_.load() || error_.ok()) return Status::OK();
  }
  // The failed run's threads end by themselves once error_ is set.
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard lock(mu_);
    if (stop_ || stopped_) return aborted();
    error_ = Status::OK();
    cursor_ = 0;
  }
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Run(); });
  return Status::OK();
}

void Hydrator::SetRate(uint64_t bytes_per_sec) {
  std::lock_guard lock(rate_mu_);
  rate_gen_.fetch_add(1);
  rate_ = bytes_per_sec;
  if (bytes_per_sec == 0) {
    bucket_.reset();
    return;
  }
  const double rate = static_cast<double>(bytes_per_sec);
  const double capacity = std::max(rate * 0.1, static_cast<double>(state_.block_size));
  if (bucket_) {
    bucket_->SetRate(rate, capacity, clock_->NowNanos());
  } else {
    bucket_ = std::make_unique<TokenBucket>(rate, capacity, clock_->NowNanos());
  }
}

void Hydrator::StopThreads() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(threads_mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

Status Hydrator::Stop() {
  StopThreads();
  uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    seq = mark_seq_;
  }
  Status s = done_.load() ? Status::OK() : Persist(seq);
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
  return s;
}

void Hydrator::Abandon() {
  StopThreads();
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

}  // namespace cairn::volume
