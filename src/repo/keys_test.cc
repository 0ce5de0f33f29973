#include "repo/keys.h"

#include <gtest/gtest.h>

namespace cairn::repo {
namespace {

const ScryptParams kFast{1024, 8, 1};

TEST(KeysTest, WrapUnwrapRoundTrip) {
  MasterKey key = MasterKey::Generate();
  Result<KeyFile> f = WrapMasterKey(key, "repo-id-1", "correct horse", kFast);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->id.size(), 16u);
  EXPECT_EQ(f->salt.size(), 32u);
  Result<KeyFile> parsed = KeyFile::FromJson(f->ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->id, f->id);
  EXPECT_EQ(parsed->kdf.n, 1024u);
  Result<UnwrappedKey> u = UnwrapMasterKey(*parsed, "correct horse");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->repository_id, "repo-id-1");
  EXPECT_EQ(u->key.encryption_key, key.encryption_key);
  EXPECT_EQ(u->key.id_key, key.id_key);
}

TEST(KeysTest, WrongPassphraseIsUnauthenticated) {
  Result<KeyFile> f = WrapMasterKey(MasterKey::Generate(), "r", "right", kFast);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(UnwrapMasterKey(*f, "wrong").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(UnwrapMasterKey(*f, "").status().code(), StatusCode::kUnauthenticated);
}

TEST(KeysTest, TamperedDataOrSaltIsUnauthenticated) {
  Result<KeyFile> f = WrapMasterKey(MasterKey::Generate(), "r", "pw", kFast);
  ASSERT_TRUE(f.ok());
  KeyFile bad = *f;
  bad.data[20] ^= std::byte{1};
  EXPECT_EQ(UnwrapMasterKey(bad, "pw").status().code(), StatusCode::kUnauthenticated);
  bad = *f;
  bad.salt[0] ^= std::byte{1};
  EXPECT_EQ(UnwrapMasterKey(bad, "pw").status().code(), StatusCode::kUnauthenticated);
}

TEST(KeysTest, MalformedKeyFileIsCorruption) {
  EXPECT_EQ(KeyFile::FromJson("{").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(KeyFile::FromJson(R"({"id":"x","kdf":"argon2","n":1,"r":1,"p":1,"salt":"","data":""})")
                .status()
                .code(),
            StatusCode::kCorruption);
  EXPECT_EQ(KeyFile::FromJson(
                R"({"id":"x","kdf":"scrypt","n":1099511627776,"r":8,"p":1,"salt":"","data":""})")
                .status()
                .code(),
            StatusCode::kCorruption);
  EXPECT_EQ(
      KeyFile::FromJson(R"({"id":"x","kdf":"scrypt","n":1024,"r":8,"p":1,"salt":"!!","data":""})")
          .status()
          .code(),
      StatusCode::kCorruption);
}

}  // namespace
}  // namespace cairn::repo
