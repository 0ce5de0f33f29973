// Helpers shared by gc, check, rebuild-index and stats: listing objects under
// a prefix and telling pack keys from stray objects. Internal to repo/.
#ifndef CAIRN_REPO_OBJECT_LIST_H_
#define CAIRN_REPO_OBJECT_LIST_H_

#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "repo/ids.h"
#include "storage/backend.h"

namespace cairn::repo {

// Every object whose key starts with `prefix`, sorted by key.
Result<std::vector<storage::ObjectInfo>> ListObjects(storage::Backend& backend,
                                                     std::string_view prefix);

// The pack id if `key` is exactly PackKey(id) ("packs/hh/<64 hex>").
std::optional<PackId> ParsePackKey(std::string_view key);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_OBJECT_LIST_H_
