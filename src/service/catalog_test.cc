#include "service/catalog.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace cairn::service {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-catalog-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/catalog.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Catalog> OpenCatalog() {
    auto c = Catalog::Open(path_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static VolumeRecord Volume(const std::string& id) {
    VolumeRecord v;
    v.id = id;
    v.size = 1ull << 30;
    v.volume_type = "gp3";
    v.iops = 3000;
    v.throughput_mibps = 125;
    v.state = kVolumeAvailable;
    v.created = "2026-11-24T09:00:00Z";
    v.tags = {{"app", "db"}, {"team", "a=b"}};
    return v;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(CatalogTest, VolumeRoundTripsAcrossReopen) {
  {
    auto c = OpenCatalog();
    ASSERT_TRUE(c->InsertVolume(Volume("vol-0000000000000000a")).ok());
  }
  auto c = OpenCatalog();
  auto v = c->GetVolume("vol-0000000000000000a");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->size, 1ull << 30);
  EXPECT_EQ(v->volume_type, "gp3");
  EXPECT_EQ(v->iops, 3000u);
  EXPECT_EQ(v->throughput_mibps, 125u);
  EXPECT_FALSE(v->encrypted);
  EXPECT_EQ(v->state, kVolumeAvailable);
  EXPECT_EQ(v->tags.at("team"), "a=b");
  EXPECT_TRUE(v->attached.empty());
}

TEST_F(CatalogTest, DuplicateAndMissingVolumesAreNamed) {
  auto c = OpenCatalog();
  ASSERT_TRUE(c->InsertVolume(Volume("vol-0000000000000000a")).ok());
  Status dup = c->InsertVolume(Volume("vol-0000000000000000a"));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.message().find("vol-0000000000000000a"), std::string::npos);

  auto missing = c->GetVolume("vol-0000000000000000b");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("vol-0000000000000000b"), std::string::npos);
  EXPECT_EQ(c->DeleteVolume("vol-0000000000000000b").code(), StatusCode::kNotFound);
  EXPECT_EQ(c->UpdateVolume(Volume("vol-0000000000000000b")).code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, UpdateAndDeleteVolume) {
  auto c = OpenCatalog();
  ASSERT_TRUE(c->InsertVolume(Volume("vol-0000000000000000a")).ok());
  ASSERT_TRUE(c->InsertVolume(Volume("vol-0000000000000000b")).ok());
  VolumeRecord v = Volume("vol-0000000000000000a");
  v.state = kVolumeInUse;
  v.attached = "2026-11-24T10:00:00Z";
  v.size = 2ull << 30;
  v.last_snapshot = "snap-0123456789abcdef0";
  ASSERT_TRUE(c->UpdateVolume(v).ok());
  auto got = c->GetVolume(v.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, kVolumeInUse);
  EXPECT_EQ(got->attached, "2026-11-24T10:00:00Z");
  EXPECT_EQ(got->size, 2ull << 30);
  EXPECT_EQ(got->last_snapshot, "snap-0123456789abcdef0");

  ASSERT_TRUE(c->DeleteVolume("vol-0000000000000000b").ok());
  auto all = c->ListVolumes();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "vol-0000000000000000a");
}

TEST_F(CatalogTest, SnapshotGroupIsAllOrNothing) {
  auto c = OpenCatalog();
  SnapshotRecord a;
  a.id = "snap-0000000000000000a";
  a.volume_id = "vol-0000000000000000a";
  a.state = kSnapshotPending;
  a.created = "2026-11-24T09:00:00Z";
  a.size = 4096;
  a.group_id = "grp-1";
  SnapshotRecord b = a;
  b.id = "snap-0000000000000000b";
  ASSERT_TRUE(c->InsertSnapshots({a}).ok());
  // b is new but a repeats: neither is added.
  SnapshotRecord c2 = a;
  c2.id = "snap-0000000000000000c";
  EXPECT_FALSE(c->InsertSnapshots({c2, a}).ok());
  auto all = c->ListSnapshots();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  ASSERT_TRUE(c->InsertSnapshots({b, c2}).ok());
  all = c->ListSnapshots();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST_F(CatalogTest, SnapshotProgressAndFilters) {
  auto c = OpenCatalog();
  SnapshotRecord s;
  s.id = "snap-0000000000000000a";
  s.volume_id = "vol-0000000000000000a";
  s.state = kSnapshotPending;
  s.created = "2026-11-24T09:00:00Z";
  s.size = 1 << 20;
  s.tags = {{"k", "v"}};
  s.description = "hourly";
  SnapshotRecord other = s;
  other.id = "snap-0000000000000000b";
  other.volume_id = "vol-0000000000000000b";
  ASSERT_TRUE(c->InsertSnapshots({s, other}).ok());

  s.bytes_total = 1 << 20;
  s.bytes_done = 1 << 19;
  s.read_mode = "full";
  s.read_reason = "no parent snapshot";
  ASSERT_TRUE(c->UpdateSnapshot(s).ok());
  auto got = c->GetSnapshot(s.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->bytes_done, 1u << 19);
  EXPECT_EQ(got->read_reason, "no parent snapshot");
  EXPECT_EQ(got->tags.at("k"), "v");
  EXPECT_EQ(got->description, "hourly");
  EXPECT_TRUE(got->parent.empty());

  s.state = kSnapshotError;
  s.error = "daemon stopped";
  ASSERT_TRUE(c->UpdateSnapshot(s).ok());
  auto pending = c->ListSnapshots("", kSnapshotPending);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, other.id);
  auto of_a = c->ListSnapshots("vol-0000000000000000a");
  ASSERT_TRUE(of_a.ok());
  ASSERT_EQ(of_a->size(), 1u);
  EXPECT_EQ((*of_a)[0].error, "daemon stopped");
  EXPECT_EQ(c->GetSnapshot("snap-0000000000000000f").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, EventsAreNumberedInOrderAndPaged) {
  auto c = OpenCatalog();
  for (int i = 0; i < 5; ++i) {
    auto seq = c->AddEvent({0, "2026-11-24T09:00:00Z", "vol-0000000000000000a", "state",
                            "event " + std::to_string(i)});
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, i + 1);
  }
  auto page = c->ListEvents({.after = 2, .limit = 2});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[0].message, "event 2");
  EXPECT_EQ((*page)[1].seq, 4);
}

TEST_F(CatalogTest, EventsOfOneObjectNewestLast) {
  auto c = OpenCatalog();
  for (int i = 0; i < 6; ++i) {
    const std::string object = i % 2 == 0 ? "pol-0000000000000000a" : "vol-0000000000000000b";
    ASSERT_TRUE(c->AddEvent({0, "2026-11-24T09:00:00Z", object, "info", std::to_string(i)}).ok());
  }
  auto all = c->ListEvents({.object = "pol-0000000000000000a"});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].message, "0");
  EXPECT_EQ((*all)[2].message, "4");
  // The newest 2 of that object, still oldest first.
  auto last = c->ListEvents({.limit = 2, .object = "pol-0000000000000000a", .newest = true});
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ((*last)[0].message, "2");
  EXPECT_EQ((*last)[1].message, "4");
}

TEST_F(CatalogTest, MetaAndSchemaVersion) {
  {
    auto c = OpenCatalog();
    auto none = c->GetMeta("clean_shutdown");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(c->SetMeta("clean_shutdown", "0").ok());
    ASSERT_TRUE(c->SetMeta("clean_shutdown", "1").ok());
    auto v = c->GetMeta("clean_shutdown");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->value_or(""), "1");
    ASSERT_TRUE(c->SetMeta("schema_version", "99").ok());
  }
  auto reopened = Catalog::Open(path_);
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(reopened.status().message().find("99"), std::string::npos);
}

TEST_F(CatalogTest, GarbageFileIsReportedAsDamaged) {
  FILE* f = fopen(path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a database, but long enough to have a header of some sort....", f);
  fclose(f);
  auto c = Catalog::Open(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption) << c.status().ToString();
  EXPECT_NE(c.status().message().find(path_), std::string::npos);
}

}  // namespace
}  // namespace cairn::service
