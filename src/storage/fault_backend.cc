#include "storage/fault_backend.h"

#include <utility>

namespace cairn::storage {

FaultRule FaultRule::Nth(Op op, uint64_t n, Status status) {
  FaultRule r;
  r.op = op;
  r.nth = n;
  r.status = std::move(status);
  return r;
}

FaultRule FaultRule::Always(Op op, Status status) {
  FaultRule r;
  r.op = op;
  r.status = std::move(status);
  return r;
}

FaultRule FaultRule::Random(Op op, double probability, Status status) {
  FaultRule r;
  r.op = op;
  r.probability = probability;
  r.status = std::move(status);
  return r;
}

FaultInjectingBackend::FaultInjectingBackend(std::shared_ptr<Backend> target, uint64_t seed)
    : target_(std::move(target)), rng_(seed) {}

void FaultInjectingBackend::AddRule(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(ActiveRule{std::move(rule)});
}

void FaultInjectingBackend::ClearRules() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

uint64_t FaultInjectingBackend::calls(Op op) const {
  std::lock_guard lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

uint64_t FaultInjectingBackend::injected_faults() const {
  std::lock_guard lock(mu_);
  return injected_;
}

FaultInjectingBackend::Decision FaultInjectingBackend::Check(Op op, std::string_view key) {
  std::lock_guard lock(mu_);
  ++calls_[static_cast<size_t>(op)];
  Decision d;
  for (ActiveRule& r : rules_) {
    if (r.rule.op != op || !key.starts_with(r.rule.key_prefix)) continue;
    ++r.matched;
    bool fire;
    if (r.rule.nth > 0) {
      fire = r.matched == r.rule.nth;
    } else {
      // 53 random bits as a double in [0, 1): portable, unlike the
      // distributions of <random>, so a seed means the same run everywhere.
      fire = static_cast<double>(rng_() >> 11) * 0x1.0p-53 < r.rule.probability;
    }
    if (fire && !d.fault) {
      d.fault = r.rule.status;
      d.after_call = r.rule.after_call;
      ++injected_;
    }
  }
  return d;
}

Status FaultInjectingBackend::Put(std::string_view key, ByteSpan data) {
  Decision d = Check(Op::kPut, key);
  if (!d.fault) return target_->Put(key, data);
  if (d.after_call) target_->Put(key, data).IgnoreError();
  return *d.fault;
}

Status FaultInjectingBackend::PutWithSha256(std::string_view key, ByteSpan data,
                                            const Digest& sha256) {
  Decision d = Check(Op::kPut, key);
  if (!d.fault) return target_->PutWithSha256(key, data, sha256);
  if (d.after_call) target_->PutWithSha256(key, data, sha256).IgnoreError();
  return *d.fault;
}

Status FaultInjectingBackend::PutIfAbsent(std::string_view key, ByteSpan data) {
  Decision d = Check(Op::kPut, key);
  if (!d.fault) return target_->PutIfAbsent(key, data);
  if (d.after_call) target_->PutIfAbsent(key, data).IgnoreError();
  return *d.fault;
}

Result<Buffer> FaultInjectingBackend::Get(std::string_view key) {
  Decision d = Check(Op::kGet, key);
  if (!d.fault) return target_->Get(key);
  if (d.after_call) target_->Get(key).status().IgnoreError();
  return *d.fault;
}

Result<Buffer> FaultInjectingBackend::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  Decision d = Check(Op::kGetRange, key);
  if (!d.fault) return target_->GetRange(key, offset, length);
  if (d.after_call) target_->GetRange(key, offset, length).status().IgnoreError();
  return *d.fault;
}

Result<ObjectInfo> FaultInjectingBackend::Stat(std::string_view key) {
  Decision d = Check(Op::kStat, key);
  if (!d.fault) return target_->Stat(key);
  if (d.after_call) target_->Stat(key).status().IgnoreError();
  return *d.fault;
}

Status FaultInjectingBackend::List(std::string_view prefix,
                                   const std::function<Status(const ObjectInfo&)>& fn) {
  Decision d = Check(Op::kList, prefix);
  if (!d.fault) return target_->List(prefix, fn);
  if (d.after_call) target_->List(prefix, fn).IgnoreError();
  return *d.fault;
}

Status FaultInjectingBackend::Remove(std::string_view key) {
  Decision d = Check(Op::kRemove, key);
  if (!d.fault) return target_->Remove(key);
  if (d.after_call) target_->Remove(key).IgnoreError();
  return *d.fault;
}

}  // namespace cairn::storage
