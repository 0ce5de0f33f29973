// Source: what a backup reads — a regular file (sparse-aware) or a block
// device. Later layers (volumes) provide their own Source.
//
// Thread-safety: ReadAt may be called from several threads at once.
#ifndef CAIRN_REPO_SOURCE_H_
#define CAIRN_REPO_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::repo {

struct Extent {
  uint64_t offset = 0;
  uint64_t length = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  // The name recorded in the manifest ("/dev/sdb", an absolute file path).
  virtual std::string name() const = 0;
  // Fills `out` with bytes at `offset`. REQUIRES offset + out.size() <= size().
  virtual Status ReadAt(uint64_t offset, MutableByteSpan out) = 0;
  // Ranges that may hold data, sorted; everything else reads as zeros. A
  // source that cannot tell returns one extent covering everything.
  virtual Result<std::vector<Extent>> DataExtents() = 0;
};

// Opens a regular file or a block device read-only. kNotFound / kPermission
// Denied naming the path; kInvalidArgument for other file types.
Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SOURCE_H_
