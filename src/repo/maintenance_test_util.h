// Helpers for the gc and check tests (header-only, test code only): an
// in-memory repository behind a fault-injecting wrapper, backups of buffers,
// and a byte-exact read-back of every block.
#ifndef CAIRN_REPO_MAINTENANCE_TEST_UTIL_H_
#define CAIRN_REPO_MAINTENANCE_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "repo/backup.h"
#include "repo/engine_test_util.h"
#include "repo/restore.h"
#include "storage/fault_backend.h"
#include "storage/memory_backend.h"

namespace cairn::repo::testing {

class BufferSource : public Source {
 public:
  BufferSource(std::string name, Buffer data) : name_(std::move(name)), data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  std::string name() const override { return name_; }
  Status ReadAt(uint64_t offset, MutableByteSpan out) override {
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }
  Result<std::vector<Extent>> DataExtents() override {
    return std::vector<Extent>{{0, data_.size()}};
  }
  Buffer& data() { return data_; }  // to change the source between backups

 private:
  std::string name_;
  Buffer data_;
};

struct FaultRepo {
  std::shared_ptr<storage::MemoryBackend> mem;
  storage::FaultInjectingBackend* faults = nullptr;  // owned by repo
  std::unique_ptr<Repository> repo;
};

inline FaultRepo MakeFaultRepo(bool encrypted = true) {
  FaultRepo t;
  t.mem = std::make_shared<storage::MemoryBackend>();
  auto faults = std::make_unique<storage::FaultInjectingBackend>(t.mem);
  t.faults = faults.get();
  t.repo = InitTestRepo(std::move(faults), encrypted);
  return t;
}

// A second Repository over the same stored objects: proves what is stored,
// not what the first one holds in memory.
inline std::unique_ptr<Repository> ReopenFaultRepo(const FaultRepo& t) {
  auto r = Repository::Open(std::make_unique<storage::FaultInjectingBackend>(t.mem),
                            "correct horse");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  EXPECT_TRUE((*r)->LoadIndex().ok());
  return std::move(*r);
}

// `blocks` blocks of test data; block i is seeded by seed*1000+i.
inline Buffer Image(size_t blocks, uint64_t seed) {
  Buffer img;
  for (size_t i = 0; i < blocks; ++i) {
    Append(img, (i % 2 == 0) ? TextData(kTestBlockSize, seed * 1000 + i)
                             : RandomData(kTestBlockSize, seed * 1000 + i));
  }
  return img;
}

// Backs `data` up as a snapshot with no parent.
inline SnapshotId Backup(Repository& repo, const std::string& name, const Buffer& data) {
  BufferSource src(name, data);
  BackupOptions options;
  options.parent = SnapshotId();
  auto r = CreateSnapshot(repo, src, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->snapshot.id : SnapshotId();
}

// Reads every block of `id` through the index and compares with `data`.
inline void ExpectRestores(Repository& repo, const SnapshotId& id, const Buffer& data) {
  auto m = repo.LoadManifest(id);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->header.size, data.size());
  SnapshotReader reader(repo, *m);
  for (uint64_t b = 0; b < m->blocks.size(); ++b) {
    auto block = reader.ReadBlock(b);
    ASSERT_TRUE(block.ok()) << id.str() << ": " << block.status().ToString();
    const uint64_t off = b * kTestBlockSize;
    ASSERT_EQ(block->size(), std::min<uint64_t>(kTestBlockSize, data.size() - off));
    ASSERT_TRUE(std::equal(block->begin(), block->end(), data.begin() + off))
        << id.str() << " block " << b;
  }
}

// Every object: key → size.
inline std::map<std::string, uint64_t> Objects(storage::Backend& backend,
                                               std::string_view prefix = "") {
  std::map<std::string, uint64_t> out;
  EXPECT_TRUE(backend.List(prefix, [&](const storage::ObjectInfo& i) {
                       out[i.key] = i.size;
                       return Status::OK();
                     }).ok());
  return out;
}

inline uint64_t TotalSize(const std::map<std::string, uint64_t>& objects) {
  uint64_t n = 0;
  for (const auto& [key, size] : objects) n += size;
  return n;
}

}  // namespace cairn::repo::testing

#endif  // CAIRN_REPO_MAINTENANCE_TEST_UTIL_H_
