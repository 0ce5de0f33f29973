// Fuzzes the pack header decoders (ParsePackHeader, ParsePackTail).
//
// The raw input is tried as a whole pack object; then, so the fuzzer gets
// past the checksum, as a well-framed pack: bytes 0-3 (little-endian, modulo
// what follows) say how much of the rest is blob area, the remainder is the
// header's plaintext, sealed (with the unencrypted cipher's checksum) and
// framed as the format says.
#include <algorithm>

#include "core/crypto.h"
#include "fuzz/fuzz.h"
#include "repo/cipher.h"
#include "repo/pack.h"

using namespace cairn;
using namespace cairn::repo;

namespace {

const RepoCipher& Cipher() {
  static const RepoCipher cipher = RepoCipher::Unencrypted();
  return cipher;
}

Buffer Frame(ByteSpan blobs, ByteSpan header_plain) {
  Buffer pack(blobs.begin(), blobs.end());
  const size_t before = pack.size();
  Cipher().SealTo(header_plain, pack);
  PutU32LE(pack, static_cast<uint32_t>(pack.size() - before));
  Append(pack, AsBytes(kPackMagic));
  return pack;
}

void CheckPack(ByteSpan pack) {
  Result<std::vector<PackEntry>> whole = ParsePackHeader(Cipher(), pack);
  if (whole.ok()) {
    for (const PackEntry& e : *whole) FUZZ_CHECK(e.offset + e.length <= pack.size());
  }
  // The tail decoder must agree with the whole-object decoder.
  uint64_t needed = 0;
  ByteSpan tail = pack.last(std::min<size_t>(pack.size(), 64));
  Result<std::vector<PackEntry>> from_tail = ParsePackTail(Cipher(), tail, pack.size(), &needed);
  if (!from_tail.ok() && from_tail.status().code() == StatusCode::kFailedPrecondition) {
    FUZZ_CHECK(needed > tail.size());
    if (needed > pack.size()) return;  // the header claims more than the object holds
    from_tail = ParsePackTail(Cipher(), pack.last(needed), pack.size(), &needed);
  }
  FUZZ_CHECK(from_tail.ok() == whole.ok());
  if (whole.ok()) FUZZ_CHECK(from_tail->size() == whole->size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in = FuzzBytes(data, size);
  CheckPack(in);
  if (size >= 4) {
    const size_t blob_len = GetU32LE(in) % (size - 4 + 1);
    CheckPack(Frame(in.subspan(4, blob_len), in.subspan(4 + blob_len)));
  }
  return 0;
}

std::vector<Buffer> CairnFuzzSeeds() {
  std::vector<Buffer> seeds;
  PackWriter writer;
  for (int n = 0; n < 3; ++n) {
    Buffer blob(100 + n * 50, std::byte(n));
    writer.Add(ChunkId::FromBytes(Sha256(blob)), blob, static_cast<uint32_t>(blob.size()));
  }
  PackWriter::Finished f = writer.Finish(Cipher());
  seeds.push_back(f.data);
  // The same pack in the framed form the harness builds.
  const size_t header_len = GetU32LE(ByteSpan(f.data).last(kPackTrailerSize));
  const size_t blobs = f.data.size() - kPackTrailerSize - header_len;
  Buffer framed;
  PutU32LE(framed, static_cast<uint32_t>(blobs));
  Append(framed, ByteSpan(f.data).first(blobs));
  Append(framed, ByteSpan(f.data).subspan(blobs, header_len - Cipher().overhead()));
  seeds.push_back(framed);
  return seeds;
}
