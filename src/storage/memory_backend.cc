#include "storage/memory_backend.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace cairn::storage {
namespace {

Status Missing(std::string_view key) {
  return NotFoundError(fmt::format("object {} does not exist in memory backend", key));
}

}  // namespace

Status MemoryBackend::Put(std::string_view key, ByteSpan data) {
  RETURN_IF_ERROR(ValidateKey(key));
  Object obj{Buffer(data.begin(), data.end()), std::chrono::system_clock::now()};
  std::lock_guard lock(mu_);
  objects_.insert_or_assign(std::string(key), std::move(obj));
  return Status::OK();
}

Status MemoryBackend::PutIfAbsent(std::string_view key, ByteSpan data) {
  RETURN_IF_ERROR(ValidateKey(key));
  Object obj{Buffer(data.begin(), data.end()), std::chrono::system_clock::now()};
  std::lock_guard lock(mu_);
  if (!objects_.try_emplace(std::string(key), std::move(obj)).second) {
    return AlreadyExistsError(fmt::format("object {} already exists in memory backend", key));
  }
  return Status::OK();
}

Result<Buffer> MemoryBackend::Get(std::string_view key) {
  return GetRange(key, 0, UINT64_MAX);
}

Result<Buffer> MemoryBackend::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  const Buffer& data = it->second.data;
  if (offset >= data.size()) return Buffer();
  uint64_t n = std::min<uint64_t>(length, data.size() - offset);
  auto first = data.begin() + static_cast<ptrdiff_t>(offset);
  return Buffer(first, first + static_cast<ptrdiff_t>(n));
}

Result<ObjectInfo> MemoryBackend::Stat(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  return ObjectInfo{std::string(key), it->second.data.size(), it->second.modified};
}

Status MemoryBackend::List(std::string_view prefix,
                           const std::function<Status(const ObjectInfo&)>& fn) {
  std::vector<ObjectInfo> found;
  {
    std::lock_guard lock(mu_);
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.starts_with(prefix); ++it) {
      found.push_back(ObjectInfo{it->first, it->second.data.size(), it->second.modified});
    }
  }
  for (const ObjectInfo& info : found) RETURN_IF_ERROR(fn(info));
  return Status::OK();
}

Status MemoryBackend::Remove(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(mu_);
  if (auto it = objects_.find(key); it != objects_.end()) objects_.erase(it);
  return Status::OK();
}

size_t MemoryBackend::object_count() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

Status MemoryBackend::Corrupt(std::string_view key, size_t offset) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  Buffer& data = it->second.data;
  if (offset >= data.size()) {
    return InvalidArgumentError(
        fmt::format("cannot corrupt {} at offset {}: object has {} bytes", key, offset, data.size()));
  }
  data[offset] ^= std::byte{1};
  return Status::OK();
}

Status MemoryBackend::Truncate(std::string_view key, size_t new_size) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Missing(key);
  Buffer& data = it->second.data;
  if (new_size > data.size()) {
    return InvalidArgumentError(
        fmt::format("cannot truncate {} to {} bytes: object has {} bytes", key, new_size, data.size()));
  }
  data.resize(new_size);
  return Status::OK();
}

}  // namespace cairn::storage
