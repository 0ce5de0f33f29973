// VolumeRegistry: the daemon's open volumes, and which of them are exported
// over NBD. It is the nbd::ExportProvider: a client can open only a volume
// that is attached (`cairn volume attach`); detached volumes do not exist
// for NBD clients.
//
// Thread-safety: every method may be called from any thread (NBD
// connections call Open and List concurrently with API calls).
#ifndef CAIRN_SERVICE_VOLUME_REGISTRY_H_
#define CAIRN_SERVICE_VOLUME_REGISTRY_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nbd/server.h"
#include "volume/volume.h"

namespace cairn::service {

class VolumeRegistry : public nbd::ExportProvider {
 public:
  // Adds an open volume (not exported). Replaces one with the same id.
  void Add(std::shared_ptr<volume::Volume> volume);
  // Removes and returns it (null if absent); it is no longer exported.
  std::shared_ptr<volume::Volume> Remove(const std::string& id);
  // The open volume, or null.
  std::shared_ptr<volume::Volume> Get(const std::string& id) const;
  std::vector<std::shared_ptr<volume::Volume>> All() const;

  // Exported over NBD or not. REQUIRES: the volume was Add()ed.
  void SetExported(const std::string& id, bool exported);
  bool IsExported(const std::string& id) const;

  // nbd::ExportProvider: attached volumes only; kNotFound otherwise, with
  // the way out ("volume vol-… is not attached: run `cairn volume attach
  // vol-…`").
  Result<std::shared_ptr<volume::BlockDevice>> Open(std::string_view name) override;
  std::vector<nbd::ExportInfo> List() override;

 private:
  struct Entry {
    std::shared_ptr<volume::Volume> volume;
    bool exported = false;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> volumes_;  // guarded by mu_
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_VOLUME_REGISTRY_H_
