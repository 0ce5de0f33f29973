#include "repo/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cairn::repo {
namespace {

RepoConfig Sample() {
  RepoConfig c;
  c.id = "0123456789abcdef0123456789abcdef";
  c.created = "2026-11-24T09:00:00Z";
  c.block_size = 1 << 20;
  c.encrypted = false;
  return c;
}

TEST(ConfigTest, RoundTripAndFields) {
  RepoConfig c = Sample();
  std::string json = c.ToJson();
  nlohmann::json j = nlohmann::json::parse(json);
  EXPECT_EQ(j["format"], "cairn-repository");
  EXPECT_EQ(j["encryption"], "none");
  EXPECT_EQ(j["chunk_id"], "sha256");
  EXPECT_EQ(j["compression"], "zstd");
  Result<RepoConfig> d = RepoConfig::FromJson(json);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->id, c.id);
  EXPECT_EQ(d->block_size, c.block_size);
  EXPECT_FALSE(d->encrypted);
  EXPECT_EQ(d->pack_size, kDefaultPackSize);
  c.encrypted = true;
  j = nlohmann::json::parse(c.ToJson());
  EXPECT_EQ(j["chunk_id"], "hmac-sha256");
  EXPECT_TRUE(RepoConfig::FromJson(c.ToJson())->encrypted);
}

TEST(ConfigTest, NewerVersionIsFailedPrecondition) {
  nlohmann::json j = nlohmann::json::parse(Sample().ToJson());
  j["version"] = 2;
  Result<RepoConfig> d = RepoConfig::FromJson(j.dump());
  ASSERT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("version 2"), std::string::npos);
}

TEST(ConfigTest, MalformedIsCorruption) {
  const std::string good = Sample().ToJson();
  std::vector<std::string> bad = {"", "{", "[]", good.substr(0, good.size() - 1)};
  auto edit = [&](const char* key, nlohmann::json v) {
    nlohmann::json j = nlohmann::json::parse(good);
    j[key] = v;
    bad.push_back(j.dump());
  };
  edit("format", "restic");
  edit("block_size", 1000);
  edit("encryption", "rot13");
  edit("chunk_id", "hmac-sha256");  // does not go with "none"
  edit("compression", "lz4");
  edit("id", "xyz");
  edit("pack_size", "big");
  for (const std::string& s : bad) {
    EXPECT_EQ(RepoConfig::FromJson(s).status().code(), StatusCode::kCorruption) << s;
  }
}

TEST(ConfigTest, ValidateBlockSize) {
  EXPECT_TRUE(ValidateBlockSize(64 * 1024).ok());
  EXPECT_TRUE(ValidateBlockSize(512 * 1024).ok());
  EXPECT_TRUE(ValidateBlockSize(8 * 1024 * 1024).ok());
  for (uint64_t bad : {uint64_t{0}, uint64_t{32 * 1024}, uint64_t{100000},
                       uint64_t{16 * 1024 * 1024}, uint64_t{3} << 20}) {
    EXPECT_EQ(ValidateBlockSize(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::repo
