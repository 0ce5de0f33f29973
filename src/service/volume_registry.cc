#include "service/volume_registry.h"

#include <fmt/format.h>

#include "core/units.h"

namespace cairn::service {

void VolumeRegistry::Add(std::shared_ptr<volume::Volume> volume) {
  std::lock_guard lock(mu_);
  const std::string id = volume->id().str();
  volumes_[id] = Entry{std::move(volume), false};
}

std::shared_ptr<volume::Volume> VolumeRegistry::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(id);
  if (it == volumes_.end()) return nullptr;
  auto volume = std::move(it->second.volume);
  volumes_.erase(it);
  return volume;
}

std::shared_ptr<volume::Volume> VolumeRegistry::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(id);
  return it == volumes_.end() ? nullptr : it->second.volume;
}

std::vector<std::shared_ptr<volume::Volume>> VolumeRegistry::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<volume::Volume>> out;
  for (const auto& [id, e] : volumes_) out.push_back(e.volume);
  return out;
}

void VolumeRegistry::SetExported(const std::string& id, bool exported) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(id);
  if (it != volumes_.end()) it->second.exported = exported;
}

bool VolumeRegistry::IsExported(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(id);
  return it != volumes_.end() && it->second.exported;
}

Result<std::shared_ptr<volume::BlockDevice>> VolumeRegistry::Open(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) {
    if (name.empty()) {
      return NotFoundError("no default export: name a volume (nbd://HOST:PORT/vol-…)");
    }
    return NotFoundError(
        fmt::format("no volume {} on this server (run `cairn volume list`)", name));
  }
  if (!it->second.exported) {
    return NotFoundError(
        fmt::format("volume {} is not attached: run `cairn volume attach {}` first", name, name));
  }
  return std::shared_ptr<volume::BlockDevice>(it->second.volume);
}

std::vector<nbd::ExportInfo> VolumeRegistry::List() {
  std::lock_guard lock(mu_);
  std::vector<nbd::ExportInfo> out;
  for (const auto& [id, e] : volumes_) {
    if (!e.exported) continue;
    out.push_back({id, fmt::format("cairn volume, {}", FormatBytes(e.volume->Size()))});
  }
  return out;
}

}  // namespace cairn::service
