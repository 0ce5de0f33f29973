// Fuzzes the snapshot manifest decoders (DecodeManifest,
// DecodeManifestHeader). The input is tried as a whole object, then as the
// parts of a well-framed one: bytes 0-3 (little-endian, modulo what follows)
// say how much of the rest is the header JSON, the remainder is the
// compressed block map; both are sealed with the unencrypted cipher's
// checksum and framed as the format says. What decodes must re-encode to a
// manifest with the same header and map, and the header-only decoder must
// agree with the whole-object decoder.
#include <algorithm>

#include "fuzz/fuzz.h"
#include "repo/cipher.h"
#include "repo/manifest.h"

using namespace cairn;
using namespace cairn::repo;

namespace {

const RepoCipher& Cipher() {
  static const RepoCipher cipher = RepoCipher::Unencrypted();
  return cipher;
}

const SnapshotId& Expected() {
  static const SnapshotId id = *SnapshotId::Parse("snap-0123456789abcdef0");
  return id;
}

void CheckObject(ByteSpan object) {
  Result<Manifest> whole = DecodeManifest(Cipher(), Expected(), object);
  Result<SnapshotHeader> header =
      DecodeManifestHeader(Cipher(), Expected(), object.first(std::min<size_t>(object.size(), 65536)));
  if (!whole.ok()) return;
  FUZZ_CHECK(header.ok());
  FUZZ_CHECK(header->id == Expected());
  FUZZ_CHECK(whole->blocks.size() == whole->header.block_count);
  Manifest copy = *whole;
  Buffer again = EncodeManifest(Cipher(), copy);
  Result<Manifest> redecoded = DecodeManifest(Cipher(), Expected(), again);
  FUZZ_CHECK(redecoded.ok());
  FUZZ_CHECK(redecoded->blocks == whole->blocks);
  FUZZ_CHECK(HeaderToJson(redecoded->header) == HeaderToJson(copy.header));
}

Buffer Frame(ByteSpan json, ByteSpan map) {
  Buffer out = ToBuffer("CAIRNSN1");
  PutU32LE(out, static_cast<uint32_t>(json.size() + Cipher().overhead()));
  Cipher().SealTo(json, out);
  Cipher().SealTo(map, out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in = FuzzBytes(data, size);
  CheckObject(in);
  if (size >= 4) {
    const size_t json_len = GetU32LE(in) % (size - 4 + 1);
    CheckObject(Frame(in.subspan(4, json_len), in.subspan(4 + json_len)));
  }
  return 0;
}

std::vector<Buffer> CairnFuzzSeeds() {
  Manifest m;
  m.header.id = Expected();
  m.header.source = "/dev/fuzz";
  m.header.host = "fuzzhost";
  m.header.size = 5 * 4096 + 100;
  m.header.block_size = 4096;
  m.header.created = "2026-12-01T00:00:00Z";
  m.header.completed = "2026-12-01T00:00:01Z";
  m.header.description = "seed";
  m.header.tags = {{"k", "v"}};
  for (int i = 0; i < 6; ++i) {
    ChunkId id;
    if (i % 2 == 1) id.bytes[0] = std::byte(i);  // zero ids mark zero blocks
    m.blocks.push_back(id);
  }
  Buffer whole = EncodeManifest(Cipher(), m);
  // The framed form: header JSON and the sealed map's plaintext.
  const uint32_t sealed_json = GetU32LE(ByteSpan(whole).subspan(8));
  const size_t json_len = sealed_json - Cipher().overhead();
  Buffer framed;
  PutU32LE(framed, static_cast<uint32_t>(json_len));
  Append(framed, ByteSpan(whole).subspan(12, json_len));
  const size_t map_at = 12 + sealed_json;
  Append(framed, ByteSpan(whole).subspan(map_at, whole.size() - map_at - Cipher().overhead()));
  return {whole, framed};
}
