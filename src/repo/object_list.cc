#include "repo/object_list.h"

#include <algorithm>

namespace cairn::repo {

Result<std::vector<storage::ObjectInfo>> ListObjects(storage::Backend& backend,
                                                     std::string_view prefix) {
  std::vector<storage::ObjectInfo> out;
  RETURN_IF_ERROR_CTX(backend.List(prefix,
                                   [&](const storage::ObjectInfo& info) {
                                     out.push_back(info);
                                     return Status::OK();
                                   }),
                      "listing " + std::string(prefix));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

std::optional<PackId> ParsePackKey(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Result<PackId> id = PackId::FromHex(key.substr(slash + 1));
  if (!id.ok() || PackKey(*id) != key) return std::nullopt;
  return *id;
}

}  // namespace cairn::repo
