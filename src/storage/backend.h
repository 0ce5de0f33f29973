// Backend: where a repository's objects live (a local directory, S3, ...).
//
// Keys are relative '/'-separated paths ("packs/3f/3f2a…", "config"); no
// leading '/', no "." or ".." segments, no empty segments. Objects are
// immutable in practice: cairn writes a key once (config and locks aside).
//
// Every call is safe to retry. Put is atomic: a reader sees the whole old
// object or the whole new one, never a part; once Put returns OK the object
// is durable (survives a crash of the process and of the machine).
// Remove of a missing key is OK. PutIfAbsent (atomic create-if-absent) is
// optional: a backend that cannot do it says so (kFailedPrecondition) and
// repo/ falls back to a protocol that needs only Put and List (locks).
//
// Thread-safety: every method may be called from many threads at once.
// Wrappers (fault injection, retry, rate limits) implement Backend around
// another Backend.
#ifndef CAIRN_STORAGE_BACKEND_H_
#define CAIRN_STORAGE_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/status.h"

namespace cairn::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Stores `data` under `key`, replacing any object there.
  virtual Status Put(std::string_view key, ByteSpan data) = 0;

  // Put of `data` whose SHA-256 the caller already knows (a pack's id is
  // the SHA-256 of its bytes). A backend that sends a payload hash (S3's
  // x-amz-content-sha256) uses it instead of hashing again; the server then
  // refuses bytes that do not match it. REQUIRES: sha256 == Sha256(data)
  // (else such a backend fails the write). The default calls Put.
  virtual Status PutWithSha256(std::string_view key, ByteSpan data, const Digest& sha256);

  // Stores `data` under `key` only if no object is there, atomically: of
  // two racing calls for one key exactly one succeeds. kAlreadyExists when
  // the key exists (also when a retried call finds the object its own
  // earlier attempt wrote: callers use keys only they write). Returns
  // kFailedPrecondition (ConditionalPutUnsupported) when this backend cannot
  // create conditionally; callers then fall back. The default does that.
  virtual Status PutIfAbsent(std::string_view key, ByteSpan data);

  // The whole object. kNotFound if absent.
  virtual Result<Buffer> Get(std::string_view key) = 0;

  // Bytes [offset, offset+length) of the object. Returns fewer bytes only
  // when the object ends first (the caller decides whether that is
  // corruption). kNotFound if absent.
  virtual Result<Buffer> GetRange(std::string_view key, uint64_t offset,
                                  uint64_t length) = 0;

  // kNotFound if absent.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // Calls `fn` once for every object whose key starts with `prefix`, in no
  // particular order. Stops and returns fn's first non-OK Status.
  virtual Status List(std::string_view prefix,
                      const std::function<Status(const ObjectInfo&)>& fn) = 0;

  // Removes `key`; OK if it was already absent.
  virtual Status Remove(std::string_view key) = 0;

  // Where this backend points, for messages: "/srv/backup", "s3://b/p".
  virtual std::string Describe() const = 0;

  // Removes what interrupted writes of this backend left behind (a local
  // directory's temporary files) that are older than `older_than`; returns
  // how many. Callers hold the repository's exclusive lock (gc). Backends
  // whose writes leave nothing behind keep this default.
  virtual Result<size_t> RemoveStaleTemporaries(std::chrono::seconds older_than) {
    (void)older_than;
    return size_t{0};
  }
};

// The kFailedPrecondition error of a backend without PutIfAbsent.
Status ConditionalPutUnsupported(std::string_view where);

// REQUIRES nothing; returns kInvalidArgument naming the key if it is not a
// valid relative key (see above).
Status ValidateKey(std::string_view key);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_BACKEND_H_
