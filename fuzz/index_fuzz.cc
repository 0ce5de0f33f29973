// Fuzzes the index object decoder (DecodeIndexObject). The input is tried
// as a whole object, then as the plaintext body of a well-framed one (magic
// + body sealed with the unencrypted cipher's checksum), named by its
// SHA-256 as the format names index objects. What decodes must re-encode
// to an object that decodes to the same packs and entries.
#include "core/crypto.h"
#include "fuzz/fuzz.h"
#include "repo/cipher.h"
#include "repo/index.h"

using namespace cairn;
using namespace cairn::repo;

namespace {

const RepoCipher& Cipher() {
  static const RepoCipher cipher = RepoCipher::Unencrypted();
  return cipher;
}

bool SameEntries(const IndexObject& a, const IndexObject& b) {
  if (a.packs.size() != b.packs.size() || a.supersedes.size() != b.supersedes.size()) return false;
  for (size_t i = 0; i < a.packs.size(); ++i) {
    const IndexedPack& x = a.packs[i];
    const IndexedPack& y = b.packs[i];
    if (x.id != y.id || x.size != y.size || x.entries.size() != y.entries.size()) return false;
    for (size_t j = 0; j < x.entries.size(); ++j) {
      if (x.entries[j].id != y.entries[j].id || x.entries[j].offset != y.entries[j].offset ||
          x.entries[j].length != y.entries[j].length ||
          x.entries[j].raw_length != y.entries[j].raw_length) {
        return false;
      }
    }
  }
  return true;
}

void CheckObject(ByteSpan object) {
  const IndexId id = IndexId::FromBytes(Sha256(object));
  Result<IndexObject> decoded = DecodeIndexObject(Cipher(), id, object);
  if (!decoded.ok()) return;
  Buffer again = EncodeIndexObject(Cipher(), *decoded);
  Result<IndexObject> redecoded =
      DecodeIndexObject(Cipher(), IndexId::FromBytes(Sha256(again)), again);
  FUZZ_CHECK(redecoded.ok());
  FUZZ_CHECK(SameEntries(*decoded, *redecoded));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in = FuzzBytes(data, size);
  CheckObject(in);
  Buffer framed = ToBuffer("CAIRNIX1");
  Cipher().SealTo(in, framed);
  CheckObject(framed);
  return 0;
}

std::vector<Buffer> CairnFuzzSeeds() {
  IndexObject object;
  for (int p = 0; p < 2; ++p) {
    IndexedPack pack;
    pack.id = PackId::FromBytes(Sha256(ToBuffer("pack" + std::to_string(p))));
    pack.size = 1 << 20;
    for (int e = 0; e < 3; ++e) {
      PackEntry entry;
      entry.id = ChunkId::FromBytes(Sha256(ToBuffer("chunk" + std::to_string(p * 3 + e))));
      entry.offset = static_cast<uint64_t>(e) * 1000;
      entry.length = 900;
      entry.raw_length = 4096;
      pack.entries.push_back(entry);
    }
    object.packs.push_back(pack);
  }
  Buffer whole = EncodeIndexObject(Cipher(), object);
  // The body alone (what the framed path seals): skip the magic, drop the checksum.
  Buffer body(whole.begin() + 8, whole.end() - static_cast<std::ptrdiff_t>(Cipher().overhead()));
  return {whole, body};
}
