#include "core/crypto.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace cairn {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "cairn: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

// Explicitly fetched algorithms: OpenSSL 3 otherwise re-fetches (and takes
// a global lock) on every Init. Fetched once, never freed.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) Die("fetch SHA256");
  return md;
}

const EVP_CIPHER* AesGcmCipher() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (c == nullptr) Die("fetch AES-256-GCM");
  return c;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) Die("fetch HMAC");
  return mac;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

EVP_CIPHER_CTX* ThreadCipherCtx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) Die("EVP_CIPHER_CTX_new");
  return ctx.get();
}

const unsigned char* U8(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U8(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

}  // namespace

// ---- SHA-256 ----

Digest Sha256(ByteSpan data) {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  Digest d;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), U8(d.data()), nullptr) != 1) {
    Die("SHA-256");
  }
  return d;
}

std::array<std::byte, 16> Md5(ByteSpan data) {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  if (md == nullptr) Die("fetch MD5");
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::array<std::byte, 16> d;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), U8(d.data()), nullptr) != 1) {
    Die("MD5");
  }
  return d;
}

struct Sha256Hasher::Impl {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex2(impl_->ctx.get(), Sha256Md(), nullptr) != 1) {
    Die("SHA-256 init");
  }
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(ByteSpan data) {
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) Die("SHA-256 update");
}

Digest Sha256Hasher::Finish() {
  Digest d;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), U8(d.data()), nullptr) != 1) Die("SHA-256 final");
  return d;
}

// ---- HMAC-SHA-256 ----

Digest HmacSha256(ByteSpan key, ByteSpan data) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(HmacMac()));
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  Digest d;
  size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), U8(key.data()), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), U8(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), U8(d.data()), &len, d.size()) != 1 || len != d.size()) {
    Die("HMAC-SHA-256");
  }
  return d;
}

// ---- Randomness ----

void RandomBytes(MutableByteSpan out) {
  size_t done = 0;
  while (done < out.size()) {
    size_t n = std::min<size_t>(out.size() - done, std::numeric_limits<int>::max());
    if (RAND_bytes(U8(out.data() + done), static_cast<int>(n)) != 1) Die("RAND_bytes");
    done += n;
  }
}

// ---- scrypt ----

Result<Buffer> Scrypt(std::string_view passphrase, ByteSpan salt, const ScryptParams& params,
                      size_t out_len) {
  const uint64_t n = params.n, r = params.r, p = params.p;
  if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 || out_len == 0) {
    return InvalidArgumentError(
        fmt::format("scrypt: bad parameters N={} r={} p={} length={}", n, r, p, out_len));
  }
  // Memory OpenSSL needs is about 128*r*(N+p) bytes; allow that plus slack.
  constexpr uint64_t kMaxMem = uint64_t{1} << 40;
  if (r * p >= (uint64_t{1} << 30) || n > kMaxMem / 128 / r || 128 * r * (n + p) > kMaxMem) {
    return InvalidArgumentError(
        fmt::format("scrypt: parameters too large N={} r={} p={}", n, r, p));
  }
  const uint64_t maxmem = 128 * r * (n + p) + (uint64_t{64} << 20);
  Buffer out(out_len);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), U8(salt.data()), salt.size(), n, r, p,
                     maxmem, U8(out.data()), out.size()) != 1) {
    return InvalidArgumentError(
        fmt::format("scrypt: OpenSSL rejected N={} r={} p={} length={}", n, r, p, out_len));
  }
  return out;
}

// ---- AES-256-GCM ----

Aead::Aead(ByteSpan key) {
  if (key.size() != kKeySize) {
    std::fprintf(stderr, "cairn: fatal: Aead key of %zu bytes (want %zu)\n", key.size(), kKeySize);
    std::abort();
  }
  std::memcpy(key_.data(), key.data(), kKeySize);
}

void Aead::SealTo(ByteSpan plaintext, Buffer& out, ByteSpan aad) const {
  if (plaintext.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    Die("AES-GCM seal: message too large");
  }
  const size_t base = out.size();
  out.resize(base + kOverhead + plaintext.size());
  std::byte* nonce = out.data() + base;
  std::byte* ct = nonce + kNonceSize;
  std::byte* tag = ct + plaintext.size();
  RandomBytes({nonce, kNonceSize});

  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx, AesGcmCipher(), U8(key_.data()), U8(nonce), nullptr) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx, nullptr, &len, U8(aad.data()), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, U8(ct), &len, U8(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, U8(ct + len), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    Die("AES-GCM seal");
  }
}

Buffer Aead::Seal(ByteSpan plaintext, ByteSpan aad) const {
  Buffer out;
  out.reserve(plaintext.size() + kOverhead);
  SealTo(plaintext, out, aad);
  return out;
}

Result<Buffer> Aead::Open(ByteSpan sealed, ByteSpan aad) const {
  if (sealed.size() < kOverhead) {
    return CorruptionError(
        fmt::format("authentication failed: sealed message of {} bytes is shorter than {}",
                    sealed.size(), kOverhead));
  }
  const size_t ct_size = sealed.size() - kOverhead;
  if (ct_size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return CorruptionError("authentication failed: sealed message too large");
  }
  ByteSpan nonce = sealed.first(kNonceSize);
  ByteSpan ct = sealed.subspan(kNonceSize, ct_size);
  ByteSpan tag = sealed.last(kTagSize);
  Buffer out(ct_size);

  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int len = 0;
  if (EVP_DecryptInit_ex2(ctx, AesGcmCipher(), U8(key_.data()), U8(nonce.data()), nullptr) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx, nullptr, &len, U8(aad.data()), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, U8(out.data()), &len, U8(ct.data()), static_cast<int>(ct_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<std::byte*>(tag.data())) != 1) {
    Die("AES-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx, U8(out.data() + len), &len) != 1) {
    return CorruptionError(fmt::format(
        "authentication failed: AES-GCM tag mismatch ({} bytes sealed)", sealed.size()));
  }
  return out;
}

// ---- AES-256-XTS ----

namespace {

const EVP_CIPHER* AesXtsCipher() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr);
  if (c == nullptr) Die("fetch AES-256-XTS");
  return c;
}

void XtsTransform(EVP_CIPHER_CTX* keyed, bool encrypt, uint64_t first_sector, size_t sector_size,
                  ByteSpan in, MutableByteSpan out) {
  if (in.size() != out.size() || sector_size < 16 || sector_size > (size_t{1} << 24) ||
      in.size() % sector_size != 0) {
    Die("AES-XTS: bad buffer sizes");
  }
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> work(EVP_CIPHER_CTX_new());
  if (!work || EVP_CIPHER_CTX_copy(work.get(), keyed) != 1) Die("AES-XTS context copy");
  unsigned char iv[16];
  for (size_t done = 0; done < in.size(); done += sector_size) {
    uint64_t sector = first_sector + done / sector_size;
    for (int i = 0; i < 8; ++i) iv[i] = static_cast<unsigned char>(sector >> (8 * i));
    std::memset(iv + 8, 0, 8);
    int len = 0;
    const int n = static_cast<int>(sector_size);
    bool ok = encrypt ? EVP_EncryptInit_ex2(work.get(), nullptr, nullptr, iv, nullptr) == 1 &&
                            EVP_EncryptUpdate(work.get(), U8(out.data() + done), &len,
                                              U8(in.data() + done), n) == 1
                      : EVP_DecryptInit_ex2(work.get(), nullptr, nullptr, iv, nullptr) == 1 &&
                            EVP_DecryptUpdate(work.get(), U8(out.data() + done), &len,
                                              U8(in.data() + done), n) == 1;
    if (!ok || len != n) Die("AES-XTS");
  }
}

}  // namespace

struct XtsCipher::Impl {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> enc{EVP_CIPHER_CTX_new()};
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> dec{EVP_CIPHER_CTX_new()};
};

XtsCipher::XtsCipher(ByteSpan key) : impl_(std::make_unique<Impl>()) {
  if (key.size() != kKeySize || std::memcmp(key.data(), key.data() + 32, 32) == 0) {
    std::fprintf(stderr, "cairn: fatal: XTS key of %zu bytes (want %zu, halves differing)\n",
                 key.size(), kKeySize);
    std::abort();
  }
  if (!impl_->enc || !impl_->dec ||
      EVP_EncryptInit_ex2(impl_->enc.get(), AesXtsCipher(), U8(key.data()), nullptr, nullptr) !=
          1 ||
      EVP_DecryptInit_ex2(impl_->dec.get(), AesXtsCipher(), U8(key.data()), nullptr, nullptr) !=
          1) {
    Die("AES-XTS key setup");
  }
}

XtsCipher::~XtsCipher() = default;

void XtsCipher::Encrypt(uint64_t first_sector, size_t sector_size, ByteSpan in,
                        MutableByteSpan out) const {
  XtsTransform(impl_->enc.get(), true, first_sector, sector_size, in, out);
}

void XtsCipher::Decrypt(uint64_t first_sector, size_t sector_size, ByteSpan in,
                        MutableByteSpan out) const {
  XtsTransform(impl_->dec.get(), false, first_sector, sector_size, in, out);
}

}  // namespace cairn
