// MemoryBackend: a Backend holding objects in a map in memory, for unit tests
// of the layers above storage/. Nothing is persisted; modified time is the
// time of the Put.
//
// Besides the Backend calls it offers raw access for tests: object_count(),
// Corrupt() (flip one bit) and Truncate(), to check that readers detect
// damaged objects.
//
// Thread-safety: every method may be called from many threads at once; one
// mutex guards the map. List copies the matching entries first and calls `fn`
// without holding the mutex, so `fn` may call back into the backend.
#ifndef CAIRN_STORAGE_MEMORY_BACKEND_H_
#define CAIRN_STORAGE_MEMORY_BACKEND_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/backend.h"

namespace cairn::storage {

class MemoryBackend : public Backend {
 public:
  MemoryBackend() = default;
  MemoryBackend(const MemoryBackend&) = delete;
  MemoryBackend& operator=(const MemoryBackend&) = delete;

  Status Put(std::string_view key, ByteSpan data) override;
  Status PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset,
                          uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  // "memory".
  std::string Describe() const override { return "memory"; }

  // Number of objects stored.
  size_t object_count() const;

  // Flips the lowest bit of the byte at `offset` of `key`. kNotFound if the
  // object is absent; kInvalidArgument if offset >= its size.
  Status Corrupt(std::string_view key, size_t offset);

  // Cuts `key` to `new_size` bytes. kNotFound if absent; kInvalidArgument if
  // new_size is larger than the object.
  Status Truncate(std::string_view key, size_t new_size);

 private:
  struct Object {
    Buffer data;
    std::chrono::system_clock::time_point modified;
  };

  mutable std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_MEMORY_BACKEND_H_
