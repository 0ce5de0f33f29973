#include "storage/backend.h"

namespace cairn::storage {

Status Backend::PutWithSha256(std::string_view key, ByteSpan data, const Digest&) {
  return Put(key, data);
}

Status Backend::PutIfAbsent(std::string_view key, ByteSpan) {
  return ConditionalPutUnsupported(Describe() + " (writing " + std::string(key) + ")");
}

Status ConditionalPutUnsupported(std::string_view where) {
  return FailedPreconditionError(std::string(where) +
                                 ": this storage cannot create an object only if it is absent");
}

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid object key '" + std::string(key) + "': " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.front() == '/') return bad("starts with '/'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' or '..' segment");
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace cairn::storage
