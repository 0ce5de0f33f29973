// Fuzzes the chunk decoder (DecodeChunk): unsealing, decompression with a
// raw-length bound, and the id check. The input's first 4 bytes give the
// claimed raw length (modulo 8 MiB + 1, the largest block size); the rest is
// the blob's plaintext (flag byte, then a zstd frame or the raw block),
// sealed with the unencrypted cipher's checksum. Two ids are expected in
// turn: the one of the bytes after the flag (right for a raw blob) and the
// all-zero id, so both matching and mismatching ids occur. What decodes must hash to the expected id and have
// the claimed length.
#include <algorithm>

#include "fuzz/fuzz.h"
#include "repo/chunk.h"
#include "repo/cipher.h"

using namespace cairn;
using namespace cairn::repo;

namespace {

const RepoCipher& Cipher() {
  static const RepoCipher cipher = RepoCipher::Unencrypted();
  return cipher;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  ByteSpan in = FuzzBytes(data, size);
  const uint32_t raw_length = GetU32LE(in) % ((8u << 20) + 1);
  ByteSpan rest = in.subspan(4);
  const Buffer blob = Cipher().Seal(rest);
  for (const ChunkId& id :
       {Cipher().ComputeChunkId(rest.subspan(std::min<size_t>(rest.size(), 1))), ChunkId()}) {
    Result<Buffer> plain = DecodeChunk(Cipher(), id, blob, raw_length);
    if (plain.ok()) {
      FUZZ_CHECK(plain->size() == raw_length);
      FUZZ_CHECK(Cipher().ComputeChunkId(*plain) == id);
    }
  }
  return 0;
}

std::vector<Buffer> CairnFuzzSeeds() {
  std::vector<Buffer> seeds;
  for (const std::string& text : {std::string(64, 'a'), std::string(5000, 'b')}) {
    Buffer plain = ToBuffer(text);
    Buffer blob = EncodeChunk(Cipher(), plain);
    Buffer seed;
    PutU32LE(seed, static_cast<uint32_t>(plain.size()));
    Append(seed, ByteSpan(blob).first(blob.size() - Cipher().overhead()));
    seeds.push_back(seed);
  }
  return seeds;
}
