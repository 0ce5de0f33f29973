// Packs (docs/format.md "packs"): many chunk blobs in one object with a
// sealed header listing them, so the index can be rebuilt from packs alone.
#ifndef CAIRN_REPO_PACK_H_
#define CAIRN_REPO_PACK_H_

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/ids.h"

namespace cairn::repo {

// One chunk's place in a pack; also the 48-byte index entry.
struct PackEntry {
  ChunkId id;
  uint64_t offset = 0;      // of the blob within the pack
  uint32_t length = 0;      // of the blob
  uint32_t raw_length = 0;  // of the plaintext block
};
inline constexpr size_t kPackEntrySize = 48;
inline constexpr std::string_view kPackMagic = "CAIRNPK1";
inline constexpr size_t kPackTrailerSize = 4 + 8;  // header_len + magic

void EncodePackEntry(const PackEntry& e, Buffer& out);
// REQUIRES: b.size() >= kPackEntrySize.
PackEntry DecodePackEntry(ByteSpan b);

// Accumulates blobs into one pack. Not thread-safe.
class PackWriter {
 public:
  // Appends a blob; returns its entry.
  const PackEntry& Add(const ChunkId& id, ByteSpan blob, uint32_t raw_length);
  size_t size() const { return data_.size(); }  // bytes so far (no header)
  size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  struct Finished {
    PackId id;
    Buffer data;  // the whole object
    std::vector<PackEntry> entries;
  };
  // Appends the sealed header and trailer; computes the pack id. The writer
  // is empty again afterwards.
  Finished Finish(const RepoCipher& cipher);

 private:
  Buffer data_;
  std::vector<PackEntry> entries_;
};

// Decodes the header of a whole pack object. kCorruption if the trailer,
// header or any entry is malformed (entries must lie inside the pack).
Result<std::vector<PackEntry>> ParsePackHeader(const RepoCipher& cipher,
                                               ByteSpan pack);

// Decodes a pack's header from its trailing `tail` bytes (the last
// min(pack_size, tail.size()) bytes of the object). If the header is longer
// than `tail`, returns kFailedPrecondition and sets *needed_tail to the tail
// length required, so the caller can fetch that much and call again.
Result<std::vector<PackEntry>> ParsePackTail(const RepoCipher& cipher,
                                             ByteSpan tail, uint64_t pack_size,
                                             uint64_t* needed_tail);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_PACK_H_
