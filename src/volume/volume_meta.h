// VolumeMeta: what DIR/volume.json holds, and its encoding.
//
//   {"format": 1, "id": "vol-…", "size": 1073741824, "type": "gp3",
//    "iops": 3000, "throughput_mibps": 125, "encrypted": true,
//    "wrapped_key": "<base64 of AES-256-GCM sealed 64-byte XTS key>",
//    "block_size": 65536, "created_unix": 1700000000}
//
// The XTS key is sealed with the daemon key, the volume id as associated
// data ("cairn volume key vol-…"), so a wrapped key copied into another
// volume's file does not open. Values; thread-safe.
#ifndef CAIRN_VOLUME_VOLUME_META_H_
#define CAIRN_VOLUME_VOLUME_META_H_

#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "volume/volume.h"

namespace cairn::volume {

struct VolumeMeta {
  VolumeInfo info;
  Buffer wrapped_key;  // empty unless info.encrypted
};

std::string EncodeVolumeMeta(const VolumeMeta& meta);
// kCorruption naming `what` (the file) and the field at fault.
Result<VolumeMeta> DecodeVolumeMeta(std::string_view json, std::string_view what);

// Seals / opens the volume key under the daemon key.
// REQUIRES (Wrap): daemon_key.size() == kDaemonKeySize.
Buffer WrapVolumeKey(ByteSpan daemon_key, const VolumeId& id, ByteSpan volume_key);
// kFailedPrecondition without a daemon key of the right size;
// kUnauthenticated when the key does not open it.
Result<Buffer> UnwrapVolumeKey(ByteSpan daemon_key, const VolumeId& id, ByteSpan wrapped);

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_VOLUME_META_H_
