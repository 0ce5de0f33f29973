// PlanGc: the pure half of garbage collection (see gc.h).
#include <algorithm>
#include <map>
#include <string>
#include <string_view>

#include "repo/gc.h"
#include "repo/object_list.h"

namespace cairn::repo {

GcPlan PlanGc(const GcInputs& inputs, const GcOptions& options) {
  GcPlan plan;
  std::map<std::string, const storage::ObjectInfo*, std::less<>> listed;
  for (const storage::ObjectInfo& info : inputs.listing) {
    if (info.key.starts_with(kPacksPrefix)) listed[info.key] = &info;
  }
  // Young: modified less than `grace` ago, or in the future (clock skew).
  auto young = [&](const storage::ObjectInfo& info) {
    return info.modified > inputs.now - options.grace;
  };

  std::vector<const IndexedPack*> packs;
  for (const IndexedPack& p : inputs.packs) packs.push_back(&p);
  std::sort(packs.begin(), packs.end(),
            [](const IndexedPack* a, const IndexedPack* b) { return a->id < b->id; });

  std::map<std::string, bool, std::less<>> indexed_keys;
  for (const IndexedPack* pack : packs) {
    std::string key = PackKey(pack->id);
    indexed_keys[key] = true;
    uint64_t used_bytes = 0, all_bytes = 0, used_count = 0;
    for (const PackEntry& e : pack->entries) {
      all_bytes += e.length;
      if (inputs.used.contains(e.id)) {
        used_bytes += e.length;
        ++used_count;
      }
    }
    plan.chunks_used += used_count;
    plan.chunks_unused += pack->entries.size() - used_count;

    auto it = listed.find(key);
    if (it == listed.end()) {
      plan.missing.push_back(pack->id);
      continue;
    }
    const storage::ObjectInfo& info = *it->second;
    bool unused = used_count == 0;
    bool sparse = !unused && static_cast<double>(used_bytes) <
                                 options.repack_below * static_cast<double>(all_bytes);
    if (!unused && !sparse) continue;  // mostly used: kept as is
    if (young(info)) {
      plan.kept_young.push_back(pack->id);
    } else if (unused) {
      plan.remove.push_back(pack->id);
      plan.bytes_freed += info.size;
    } else {
      plan.repack.push_back(pack->id);
      plan.bytes_repacked += used_bytes;
      plan.bytes_freed += info.size > used_bytes ? info.size - used_bytes : 0;
    }
  }

  for (const auto& [key, info] : listed) {  // std::map: sorted by key
    if (indexed_keys.contains(key) || !ParsePackKey(key)) continue;
    plan.unindexed.push_back(key);
    if (!young(*info)) {
      plan.remove_unindexed.push_back(key);
      plan.bytes_freed += info->size;
    }
  }
  return plan;
}

}  // namespace cairn::repo
