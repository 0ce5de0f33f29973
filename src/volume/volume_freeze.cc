// Point-in-time views of live volumes and changed-block tracking across
// them: Freeze, FreezeGroup, Release, Changed.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/log.h"
#include "volume/file_util.h"
#include "volume/volume.h"
#include "volume/volume_internal.h"

namespace cairn::volume {
namespace {

using State = VolumeView::State;

Status MakeStore(Volume::Impl& m, State& s) {
  const std::string views_dir = m.Path(kViewsDir);
  if (::mkdir(views_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "creating " + views_dir);
  }
  s.store_path = fmt::format("{}/{}.cow", views_dir, s.sequence);
  RETURN_IF_ERROR(RemoveFileIfExists(s.store_path));
  ASSIGN_OR_RETURN(s.store_raw,
                   FileDevice::Open(s.store_path, {.create = true, .create_size = s.size}));
  if (m.encrypted) {
    s.store_xts = std::make_unique<XtsDevice>(s.store_raw.get(), m.volume_key);
    s.store = s.store_xts.get();
  } else {
    s.store = s.store_raw.get();
  }
  const size_t words = (s.block_count() + 63) / 64 + 1;
  s.preserved = std::make_unique<std::atomic<uint64_t>[]>(words);
  for (size_t i = 0; i < words; ++i) s.preserved[i].store(0, std::memory_order_relaxed);
  return Status::OK();
}

void DeleteStore(State& s) {
  s.store = nullptr;
  s.store_xts.reset();
  s.store_raw.reset();
  Status st = RemoveFileIfExists(s.store_path);
  if (!st.ok()) LogWarning(st.ToString());
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Volume::Impl::DropView(const std::shared_ptr<State>& state) {
  {
    std::unique_lock lock(state->mu);  // waits for the view's reads
    state->volume = nullptr;
  }
  DeleteStore(*state);
}

Result<std::shared_ptr<VolumeView>> Volume::Freeze() {
  Volume* self = this;
  ASSIGN_OR_RETURN(auto views, FreezeGroup(std::span<Volume* const>(&self, 1)));
  return views.front();
}

Result<std::vector<std::shared_ptr<VolumeView>>> Volume::FreezeGroup(
    std::span<Volume* const> volumes) {
  const size_t n = volumes.size();
  if (n == 0) return InvalidArgumentError("freeze: no volumes given");
  // Lock in id order so two group freezes never wait for each other in a
  // circle.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return volumes[a]->id_ < volumes[b]->id_ ||
           (volumes[a]->id_ == volumes[b]->id_ && volumes[a] < volumes[b]);
  });
  for (size_t i = 1; i < n; ++i) {
    if (volumes[order[i]] == volumes[order[i - 1]]) {
      return InvalidArgumentError(
          fmt::format("freeze: volume {} is named twice", volumes[order[i]]->id_.str()));
    }
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t i : order) {
    Impl& m = *volumes[i]->impl_;
    locks.emplace_back(m.views_mu);
    if (m.closed) return m.ClosedError();
  }

  // Stores are made before the instant, so writes are held only briefly.
  std::vector<std::shared_ptr<State>> states(n);
  auto cleanup = [&] {
    for (auto& s : states) {
      if (s && s->store_raw) DeleteStore(*s);
    }
  };
  for (size_t i = 0; i < n; ++i) {
    Impl& m = *volumes[i]->impl_;
    auto s = std::make_shared<State>();
    s->volume = &m;
    s->owner = volumes[i]->impl_;
    s->sequence = m.next_sequence++;
    s->size = m.size.load();
    s->block_size = m.block_size;
    states[i] = s;
    Status st = MakeStore(m, *s);
    if (!st.ok()) {
      cleanup();
      return st.WithContext(fmt::format("freezing {}", m.id.str()));
    }
  }

  // The instant: no write is in flight on any of the volumes.
  for (size_t i : order) {
    if (!volumes[i]->impl_->gate.HoldWrites()) {  // cannot happen: views_mu keeps Close out
      cleanup();
      return volumes[i]->impl_->ClosedError();
    }
  }
  const int64_t instant = NowUnixNanos();
  Status grow;
  for (size_t i = 0; i < n; ++i) {
    Impl& m = *volumes[i]->impl_;
    State& s = *states[i];
    if (s.size != m.size.load()) {  // grown between store creation and the instant
      s.size = m.size.load();
      if (grow.ok()) grow = s.store_raw->Grow(s.size);
    }
  }
  if (grow.ok()) {
    for (size_t i = 0; i < n; ++i) {
      Impl& m = *volumes[i]->impl_;
      {
        std::lock_guard lock(m.cbt_mu);
        m.pending.push_back({states[i]->sequence, std::move(m.live), m.live_state});
        m.live = std::make_unique<ChangeMap>(m.size.load(), m.block_size);
        m.live_state = {};
      }
      m.cbt_dirty.store(true);
      m.views.push_back(states[i]);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    volumes[*it]->impl_->gate.ReleaseWrites();
  }
  if (!grow.ok()) {
    cleanup();
    return grow.WithContext("freezing: growing a view store");
  }

  std::vector<std::shared_ptr<VolumeView>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::make_shared<VolumeView>(states[i], volumes[i]->id_, states[i]->sequence,
                                               states[i]->size, instant));
  }
  return out;
}

// ---- VolumeView: release and changed blocks ----

VolumeView::VolumeView(std::shared_ptr<State> state, VolumeId volume_id, uint64_t sequence,
                       uint64_t size, int64_t frozen_unix_nanos)
    : state_(std::move(state)),
      volume_id_(std::move(volume_id)),
      sequence_(sequence),
      size_(size),
      frozen_unix_nanos_(frozen_unix_nanos) {}

VolumeView::~VolumeView() {
  Status s = Release(false);
  if (!s.ok()) LogWarning(s.ToString());
}

Status VolumeView::Release(bool completed) {
  const std::shared_ptr<Volume::Impl> keep = state_->owner.lock();
  if (keep == nullptr) return Status::OK();  // the volume is gone
  {
    std::shared_lock lock(state_->mu);
    if (state_->volume == nullptr) return Status::OK();
  }
  Volume::Impl* m = keep.get();
  std::lock_guard views_lock(m->views_mu);
  auto it = std::find(m->views.begin(), m->views.end(), state_);
  if (m->closed || it == m->views.end()) return Status::OK();  // released meanwhile
  m->gate.HoldWrites();  // views_mu keeps Close out, so the gate is not shut
  m->views.erase(it);
  {
    std::unique_lock lock(state_->mu);  // waits for this view's reads
    state_->volume = nullptr;
  }
  m->gate.ReleaseWrites();
  DeleteStore(*state_);

  std::lock_guard lock(m->cbt_mu);
  auto e = std::find_if(m->pending.begin(), m->pending.end(),
                        [&](const Volume::Impl::Epoch& x) { return x.sequence == sequence_; });
  if (e == m->pending.end()) return Status::OK();  // a newer view completed first
  if (completed) {
    // Its content is a completed snapshot: everything up to its instant is
    // accounted for, including older views still pending.
    m->pending.erase(m->pending.begin(), e + 1);
  } else {
    // Not stored anywhere: its changes go to the next epoch.
    ChangeMap* next = (e + 1 != m->pending.end()) ? (e + 1)->bits.get() : m->live.get();
    ChangeMap::State& next_state = (e + 1 != m->pending.end()) ? (e + 1)->state : m->live_state;
    next->MergeFrom(*e->bits);
    if (!e->state.known && next_state.known) next_state = e->state;
    m->pending.erase(e);
  }
  m->cbt_dirty.store(true);
  return Status::OK();
}

Result<ChangedExtents> VolumeView::Changed() const {
  std::shared_lock lock(state_->mu);
  Volume::Impl* m = state_->volume;
  if (m == nullptr) {
    return FailedPreconditionError(fmt::format("{} was released", Describe()));
  }
  ChangedExtents out;
  out.block_size = state_->block_size;
  std::lock_guard cbt_lock(m->cbt_mu);
  auto e = std::find_if(m->pending.begin(), m->pending.end(),
                        [&](const Volume::Impl::Epoch& x) { return x.sequence == sequence_; });
  if (e == m->pending.end()) {
    out.unknown_reason = fmt::format(
        "a newer snapshot of {} was completed before {}, so its changes since the last completed "
        "snapshot are not kept; changed extents unknown: read everything",
        volume_id_.str(), Describe());
    return out;
  }
  ChangeMap merged(size_, state_->block_size);
  for (auto it = m->pending.begin(); it != e + 1; ++it) {
    if (!it->state.known) {
      out.unknown_reason = it->state.reason;
      return out;
    }
    merged.MergeFrom(*it->bits);
  }
  out.known = true;
  out.ranges = merged.Ranges(size_);
  return out;
}

uint64_t ChangedExtents::changed_bytes() const {
  uint64_t n = 0;
  for (const Range& r : ranges) n += r.length;
  return n;
}

}  // namespace cairn::volume
