#include "repo/recycle_bin.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "core/units.h"
#include "repo/host_info.h"
#include "repo/lock.h"
#include "repo/object_list.h"
#include "repo/parallel.h"

namespace cairn::repo {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kBinMagic = "CAIRNDL1";
constexpr size_t kBinPrefixSize = 8 + 4;  // magic + record_len
constexpr uint32_t kMaxRecordLen = 64 * 1024;
// Record plus a manifest header fit in this; longer ones are read whole.
constexpr uint64_t kBinReadPrefix = 64 * 1024;

std::string RecordToJson(const BinRecord& r) {
  Json j;
  j["id"] = r.id.str();
  j["deleted"] = r.deleted;
  j["expires"] = r.expires;
  j["host"] = r.host;
  return j.dump();
}

Result<BinRecord> RecordFromJson(std::string_view text, const SnapshotId& expected_id) {
  BinRecord r;
  std::string id;
  try {
    Json j = Json::parse(text);
    id = j.at("id").get<std::string>();
    r.deleted = j.at("deleted").get<std::string>();
    r.expires = j.at("expires").get<std::string>();
    r.host = j.value("host", "");
  } catch (const Json::exception& e) {
    return CorruptionError(std::string("malformed record JSON: ") + e.what());
  }
  if (id != expected_id.str()) {
    return CorruptionError("record names snapshot \"" + id + "\", not the object's name");
  }
  r.id = expected_id;
  for (const std::string* t : {&r.deleted, &r.expires}) {
    if (!ParseTimeUtc(*t).ok())
      return CorruptionError("record time \"" + *t + "\" is not RFC 3339");
  }
  return r;
}

Status NotInBin(const SnapshotId& id, Repository& repo) {
  return NotFoundError(
      fmt::format("snapshot {} is not in the recycle bin of {} (`cairn snapshot "
                  "list --deleted` lists what is)",
                  id.str(), repo.Describe()));
}

// The deleted object's bytes: the first kBinReadPrefix, or all of them.
Result<BinEntry> DecodeEntry(Repository& repo, const SnapshotId& id, ByteSpan prefix, bool whole) {
  ASSIGN_OR_RETURN(DecodedBinPrefix d, DecodeBinPrefix(repo.cipher(), id, prefix));
  Result<SnapshotHeader> h =
      DecodeManifestHeader(repo.cipher(), id, prefix.subspan(d.manifest_offset));
  if (!h.ok() && h.status().code() == StatusCode::kFailedPrecondition && whole) {
    return CorruptionError("truncated: " + h.status().message());
  }
  if (!h.ok()) return h.status();
  return BinEntry{std::move(d.record), std::move(*h)};
}

}  // namespace

bool BinRecord::Expired(TimePoint now) const {
  Result<TimePoint> t = ParseTimeUtc(expires);
  return !t.ok() || now >= *t;
}

Buffer EncodeBinObject(const RepoCipher& cipher, const BinRecord& record,
                       ByteSpan manifest_object) {
  const std::string json = RecordToJson(record);
  Buffer out;
  out.reserve(kBinPrefixSize + json.size() + cipher.overhead() + manifest_object.size());
  Append(out, AsBytes(kBinMagic));
  PutU32LE(out, static_cast<uint32_t>(json.size() + cipher.overhead()));
  cipher.SealTo(AsBytes(json), out);
  Append(out, manifest_object);
  return out;
}

Result<DecodedBinPrefix> DecodeBinPrefix(const RepoCipher& cipher, const SnapshotId& expected_id,
                                         ByteSpan prefix) {
  const std::string ctx = "deleted snapshot " + expected_id.str();
  if (prefix.size() >= kBinMagic.size() &&
      AsStringView(prefix.first(kBinMagic.size())) != kBinMagic) {
    return CorruptionError(ctx + ": bad magic (expected CAIRNDL1)");
  }
  if (prefix.size() < kBinPrefixSize) {
    return FailedPreconditionError(fmt::format("{}: {} bytes are too short", ctx, prefix.size()));
  }
  const uint32_t len = GetU32LE(prefix.subspan(8));
  if (len > kMaxRecordLen || len < cipher.overhead()) {
    return CorruptionError(fmt::format("{}: implausible record length {}", ctx, len));
  }
  if (prefix.size() - kBinPrefixSize < len) {
    return FailedPreconditionError(fmt::format(
        "{}: the record of {} bytes does not fit the {} bytes read", ctx, len, prefix.size()));
  }
  ASSIGN_OR_RETURN_CTX(Buffer json, cipher.Open(prefix.subspan(kBinPrefixSize, len)),
                       ctx + ": record");
  ASSIGN_OR_RETURN_CTX(BinRecord r, RecordFromJson(AsStringView(json), expected_id), ctx);
  return DecodedBinPrefix{std::move(r), kBinPrefixSize + len};
}

Result<BinEntry> MoveToRecycleBin(Repository& repo, const SnapshotId& id, TimePoint now) {
  const int days = repo.config().recycle_days;
  if (days <= 0) {
    return InvalidArgumentError("the recycle bin of " + repo.Describe() + " is off");
  }
  const std::string key = SnapshotKey(id);
  Result<Buffer> data = repo.backend().Get(key);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) {
    return NotFoundError("snapshot " + id.str() + " not found in " + repo.Describe());
  }
  if (!data.ok()) return data.status().WithContext("reading " + key);
  Result<Manifest> m = DecodeManifest(repo.cipher(), id, *data);
  if (!m.ok()) {
    return CorruptionError(
        fmt::format("{}; a damaged snapshot cannot go to the recycle bin: delete it for good with "
                    "`cairn snapshot delete --skip-recycle-bin {}`",
                    m.status().message(), id.str()));
  }
  BinRecord record;
  record.id = id;
  record.deleted = FormatTimeUtc(now);
  record.expires = FormatTimeUtc(now + std::chrono::days(days));
  record.host = Hostname();
  Buffer object = EncodeBinObject(repo.cipher(), record, *data);
  RETURN_IF_ERROR_CTX(repo.backend().Put(DeletedKey(id), object),
                      "moving snapshot " + id.str() + " to the recycle bin");
  RETURN_IF_ERROR_CTX(repo.backend().Remove(key),
                      "removing " + key +
                          " after copying it to the recycle bin (run the "
                          "delete again)");
  return BinEntry{std::move(record), std::move(m->header)};
}

Result<std::optional<BinRecord>> RemoveSnapshot(Repository& repo, const SnapshotId& id,
                                                bool skip_bin, TimePoint now) {
  if (skip_bin || repo.config().recycle_days == 0) {
    RETURN_IF_ERROR(repo.DeleteSnapshot(id));
    return std::optional<BinRecord>();
  }
  ASSIGN_OR_RETURN(BinEntry entry, MoveToRecycleBin(repo, id, now));
  return std::optional<BinRecord>(std::move(entry.record));
}

Result<BinEntry> LoadBinEntry(Repository& repo, const SnapshotId& id) {
  const std::string key = DeletedKey(id);
  Result<Buffer> prefix = repo.backend().GetRange(key, 0, kBinReadPrefix);
  if (!prefix.ok() && prefix.status().code() == StatusCode::kNotFound) return NotInBin(id, repo);
  if (!prefix.ok()) return prefix.status().WithContext("reading " + key);
  bool whole = prefix->size() < kBinReadPrefix;
  Result<BinEntry> e = DecodeEntry(repo, id, *prefix, whole);
  if (!whole && !e.ok() && e.status().code() == StatusCode::kFailedPrecondition) {
    ASSIGN_OR_RETURN_CTX(Buffer all, repo.backend().Get(key), "reading " + key);
    e = DecodeEntry(repo, id, all, /*whole=*/true);
  }
  if (e.ok() && e->header.block_size != repo.config().block_size) {
    return CorruptionError(
        fmt::format("deleted snapshot {}: block size {} differs from the "
                    "repository's {}",
                    id.str(), e->header.block_size, repo.config().block_size));
  }
  if (!e.ok() && e.status().code() == StatusCode::kFailedPrecondition) {
    return CorruptionError("truncated: " + e.status().message()).WithContext(key);
  }
  return e;
}

Result<std::pair<BinRecord, Manifest>> LoadBinnedManifest(Repository& repo, const SnapshotId& id) {
  const std::string key = DeletedKey(id);
  Result<Buffer> data = repo.backend().Get(key);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) return NotInBin(id, repo);
  if (!data.ok()) return data.status().WithContext("reading " + key);
  Result<DecodedBinPrefix> d = DecodeBinPrefix(repo.cipher(), id, *data);
  if (!d.ok() && d.status().code() == StatusCode::kFailedPrecondition) {
    return CorruptionError("truncated: " + d.status().message());
  }
  if (!d.ok()) return d.status();
  ASSIGN_OR_RETURN_CTX(
      Manifest m, DecodeManifest(repo.cipher(), id, ByteSpan(*data).subspan(d->manifest_offset)),
      "deleted");
  if (m.header.block_size != repo.config().block_size) {
    return CorruptionError(
        fmt::format("deleted snapshot {}: block size {} differs from the "
                    "repository's {}",
                    id.str(), m.header.block_size, repo.config().block_size));
  }
  return std::pair<BinRecord, Manifest>(std::move(d->record), std::move(m));
}

Result<BinList> ListRecycleBin(Repository& repo) {
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> live,
                   ListObjects(repo.backend(), kSnapshotsPrefix));
  std::set<std::string> live_ids;
  for (const auto& info : live) live_ids.insert(info.key.substr(kSnapshotsPrefix.size()));
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> binned,
                   ListObjects(repo.backend(), kDeletedPrefix));
  std::vector<std::string> keys;
  for (const auto& info : binned) {
    if (!live_ids.contains(info.key.substr(kDeletedPrefix.size()))) keys.push_back(info.key);
  }
  std::vector<std::optional<Result<BinEntry>>> read(keys.size());
  ParallelFor(keys.size(), kMetadataReadThreads, [&](size_t i) {
    Result<SnapshotId> id = SnapshotId::Parse(keys[i].substr(kDeletedPrefix.size()));
    if (!id.ok()) {
      read[i] = CorruptionError("not a snapshot name: " + id.status().message());
      return;
    }
    read[i] = LoadBinEntry(repo, *id);
  });
  BinList list;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (read[i]->ok()) {
      list.entries.push_back(std::move(*read[i]).value());
    } else {
      list.damaged.emplace_back(keys[i], read[i]->status());
    }
  }
  std::sort(list.entries.begin(), list.entries.end(), [](const BinEntry& a, const BinEntry& b) {
    return std::tie(a.record.deleted, a.record.id) < std::tie(b.record.deleted, b.record.id);
  });
  return list;
}

Result<SnapshotHeader> UndeleteSnapshot(Repository& repo, const SnapshotId& id, TimePoint now) {
  LockOptions lock_options;
  lock_options.operation = "snapshot undelete";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock, RepoLock::Acquire(repo.backend(), lock_options));
  const std::string key = DeletedKey(id);
  Result<Buffer> data = repo.backend().Get(key);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) return NotInBin(id, repo);
  if (!data.ok()) return data.status().WithContext("reading " + key);
  Result<DecodedBinPrefix> d = DecodeBinPrefix(repo.cipher(), id, *data);
  if (!d.ok()) return d.status().WithContext("undeleting " + id.str());
  ByteSpan manifest = ByteSpan(*data).subspan(d->manifest_offset);
  ASSIGN_OR_RETURN_CTX(Manifest m, DecodeManifest(repo.cipher(), id, manifest),
                       "undeleting " + id.str());
  if (Result<storage::ObjectInfo> live = repo.backend().Stat(SnapshotKey(id)); live.ok()) {
    // A crash between the two steps of a move left both: the live one wins.
    RETURN_IF_ERROR_CTX(repo.backend().Remove(key), "removing the stale " + key);
    return m.header;
  }
  if (d->record.Expired(now)) {
    return NotFoundError(fmt::format(
        "snapshot {} expired from the recycle bin on {} (deleted {}); `cairn repo gc` removes "
        "it and its data, and it can no longer be undeleted",
        id.str(), d->record.expires, d->record.deleted));
  }
  RETURN_IF_ERROR_CTX(lock->health(), "undeleting " + id.str());
  RETURN_IF_ERROR_CTX(repo.backend().Put(SnapshotKey(id), manifest), "undeleting " + id.str());
  RETURN_IF_ERROR_CTX(repo.backend().Remove(key),
                      "removing " + key +
                          " after undeleting (the snapshot is back; run "
                          "undelete again to tidy up)");
  return m.header;
}

Status PurgeFromRecycleBin(Repository& repo, const SnapshotId& id) {
  const std::string key = DeletedKey(id);
  Result<storage::ObjectInfo> info = repo.backend().Stat(key);
  if (!info.ok() && info.status().code() == StatusCode::kNotFound) return NotInBin(id, repo);
  RETURN_IF_ERROR_CTX(info.status(), "reading " + key);
  RETURN_IF_ERROR_CTX(repo.backend().Remove(key), "removing " + key);
  return Status::OK();
}

}  // namespace cairn::repo
