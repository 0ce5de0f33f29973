#include "service/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace cairn::service {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS volumes (
  id TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  volume_type TEXT NOT NULL,
  iops INTEGER NOT NULL,
  throughput_mibps INTEGER NOT NULL,
  encrypted INTEGER NOT NULL,
  state TEXT NOT NULL,
  created TEXT NOT NULL,
  tags TEXT NOT NULL,
  attached TEXT,
  last_snapshot TEXT,
  error TEXT);
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  volume_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created TEXT NOT NULL,
  completed TEXT,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  parent TEXT,
  group_id TEXT,
  size INTEGER NOT NULL,
  bytes_total INTEGER NOT NULL,
  bytes_done INTEGER NOT NULL,
  bytes_read INTEGER NOT NULL,
  bytes_new INTEGER NOT NULL,
  bytes_stored INTEGER NOT NULL,
  read_mode TEXT,
  read_reason TEXT,
  error TEXT);
CREATE INDEX IF NOT EXISTS snapshots_by_state ON snapshots (state);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  object TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_object ON events (object, seq);
CREATE TABLE IF NOT EXISTS policies (
  id TEXT PRIMARY KEY,
  created TEXT NOT NULL,
  definition TEXT NOT NULL,
  state TEXT NOT NULL);
)sql";

std::string TagsToText(const std::map<std::string, std::string>& tags) {
  return nlohmann::json(tags).dump();
}

std::map<std::string, std::string> TagsFromText(const std::string& text) {
  std::map<std::string, std::string> tags;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return tags;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) tags[k] = v.get<std::string>();
  }
  return tags;
}

constexpr char kVolumeColumns[] =
    "id, size, volume_type, iops, throughput_mibps, encrypted, state, created, tags, attached, "
    "last_snapshot, error, origin_snapshot, hydrate_mode, hydration, hydration_total, "
    "hydration_done, initialization_rate, hydration_error";
constexpr int kVolumeColumnCount = 19;

// Columns added after schema version 1 shipped: added in place when missing
// (ALTER TABLE ... ADD COLUMN), so older catalogs open unchanged otherwise.
constexpr std::pair<const char*, const char*> kAddedVolumeColumns[] = {
    {"origin_snapshot", "TEXT"},
    {"hydrate_mode", "TEXT"},
    {"hydration", "TEXT"},
    {"hydration_total", "INTEGER NOT NULL DEFAULT 0"},
    {"hydration_done", "INTEGER NOT NULL DEFAULT 0"},
    {"initialization_rate", "INTEGER NOT NULL DEFAULT 0"},
    {"hydration_error", "TEXT"},
};

std::vector<SqlValue> VolumeValues(const VolumeRecord& v) {
  return {v.id,
          static_cast<int64_t>(v.size),
          v.volume_type,
          static_cast<int64_t>(v.iops),
          static_cast<int64_t>(v.throughput_mibps),
          static_cast<int64_t>(v.encrypted ? 1 : 0),
          v.state,
          v.created,
          TagsToText(v.tags),
          SqlNullIfEmpty(v.attached),
          SqlNullIfEmpty(v.last_snapshot),
          SqlNullIfEmpty(v.error),
          SqlNullIfEmpty(v.origin_snapshot),
          SqlNullIfEmpty(v.hydrate_mode),
          SqlNullIfEmpty(v.hydration),
          static_cast<int64_t>(v.hydration_total),
          static_cast<int64_t>(v.hydration_done),
          static_cast<int64_t>(v.initialization_rate),
          SqlNullIfEmpty(v.hydration_error)};
}

VolumeRecord VolumeFromRow(const SqlRow& r) {
  VolumeRecord v;
  v.id = SqlText(r[0]);
  v.size = static_cast<uint64_t>(SqlInt(r[1]));
  v.volume_type = SqlText(r[2]);
  v.iops = static_cast<uint64_t>(SqlInt(r[3]));
  v.throughput_mibps = static_cast<uint64_t>(SqlInt(r[4]));
  v.encrypted = SqlInt(r[5]) != 0;
  v.state = SqlText(r[6]);
  v.created = SqlText(r[7]);
  v.tags = TagsFromText(SqlText(r[8]));
  v.attached = SqlText(r[9]);
  v.last_snapshot = SqlText(r[10]);
  v.error = SqlText(r[11]);
  v.origin_snapshot = SqlText(r[12]);
  v.hydrate_mode = SqlText(r[13]);
  v.hydration = SqlText(r[14]);
  v.hydration_total = static_cast<uint64_t>(SqlInt(r[15]));
  v.hydration_done = static_cast<uint64_t>(SqlInt(r[16]));
  v.initialization_rate = static_cast<uint64_t>(SqlInt(r[17]));
  v.hydration_error = SqlText(r[18]);
  return v;
}

constexpr char kSnapshotColumns[] =
    "id, volume_id, state, created, completed, description, tags, parent, group_id, size, "
    "bytes_total, bytes_done, bytes_read, bytes_new, bytes_stored, read_mode, read_reason, error";

std::vector<SqlValue> SnapshotValues(const SnapshotRecord& s) {
  auto i64 = [](uint64_t x) { return SqlValue(static_cast<int64_t>(x)); };
  return {s.id,
          s.volume_id,
          s.state,
          s.created,
          SqlNullIfEmpty(s.completed),
          s.description,
          TagsToText(s.tags),
          SqlNullIfEmpty(s.parent),
          SqlNullIfEmpty(s.group_id),
          i64(s.size),
          i64(s.bytes_total),
          i64(s.bytes_done),
          i64(s.bytes_read),
          i64(s.bytes_new),
          i64(s.bytes_stored),
          SqlNullIfEmpty(s.read_mode),
          SqlNullIfEmpty(s.read_reason),
          SqlNullIfEmpty(s.error)};
}

SnapshotRecord SnapshotFromRow(const SqlRow& r) {
  auto u64 = [](const SqlValue& v) { return static_cast<uint64_t>(SqlInt(v)); };
  SnapshotRecord s;
  s.id = SqlText(r[0]);
  s.volume_id = SqlText(r[1]);
  s.state = SqlText(r[2]);
  s.created = SqlText(r[3]);
  s.completed = SqlText(r[4]);
  s.description = SqlText(r[5]);
  s.tags = TagsFromText(SqlText(r[6]));
  s.parent = SqlText(r[7]);
  s.group_id = SqlText(r[8]);
  s.size = u64(r[9]);
  s.bytes_total = u64(r[10]);
  s.bytes_done = u64(r[11]);
  s.bytes_read = u64(r[12]);
  s.bytes_new = u64(r[13]);
  s.bytes_stored = u64(r[14]);
  s.read_mode = SqlText(r[15]);
  s.read_reason = SqlText(r[16]);
  s.error = SqlText(r[17]);
  return s;
}

// "?1, ?2, ..., ?n"
std::string Placeholders(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) out += fmt::format("{}?{}", i > 1 ? ", " : "", i);
  return out;
}

// "a = ?2, b = ?3, ..." for every column but the first (the id, ?1).
std::string Assignments(std::string_view columns) {
  std::string out;
  int i = 0;
  size_t pos = 0;
  while (pos <= columns.size()) {
    size_t end = columns.find(',', pos);
    if (end == std::string_view::npos) end = columns.size();
    std::string_view name = columns.substr(pos, end - pos);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    ++i;
    if (i > 1) out += fmt::format("{}{} = ?{}", i > 2 ? ", " : "", name, i);
    pos = end + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path));
  std::unique_ptr<Catalog> catalog(new Catalog(std::move(db)));
  RETURN_IF_ERROR(catalog->Migrate());
  return catalog;
}

Status Catalog::Migrate() {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Exec(kSchema));
  ASSIGN_OR_RETURN(auto columns, db_->Query("SELECT name FROM pragma_table_info('volumes')"));
  for (const auto& [name, type] : kAddedVolumeColumns) {
    bool present = false;
    for (const auto& row : columns) present = present || SqlText(row[0]) == name;
    if (!present) {
      RETURN_IF_ERROR(db_->Exec(fmt::format("ALTER TABLE volumes ADD COLUMN {} {}", name, type))
                          .WithContext("adding column volumes." + std::string(name)));
    }
  }
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT value FROM meta WHERE key = 'schema_version'"));
  if (rows.empty()) {
    return db_
        ->Query("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                {std::to_string(kSchemaVersion)})
        .status();
  }
  const std::string found = SqlText(rows[0][0]);
  if (found != std::to_string(kSchemaVersion)) {
    return FailedPreconditionError(fmt::format(
        "catalog {} has schema version {}, this cairn knows version {}: run the cairn that "
        "wrote it, or move the data directory aside",
        db_->path(), found, kSchemaVersion));
  }
  return Status::OK();
}

Status Catalog::InsertVolume(const VolumeRecord& v) {
  std::lock_guard lock(mu_);
  auto r = db_->Query(fmt::format("INSERT INTO volumes ({}) VALUES ({})", kVolumeColumns,
                                  Placeholders(kVolumeColumnCount)),
                      VolumeValues(v));
  if (r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("volume " + v.id + " already exists in the catalog");
  }
  return r.status();
}

Status Catalog::UpdateVolume(const VolumeRecord& v) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(
      db_->Query(fmt::format("UPDATE volumes SET {} WHERE id = ?1", Assignments(kVolumeColumns)),
                 VolumeValues(v))
          .status());
  if (db_->Changes() == 0) return NotFoundError("volume " + v.id + " not found");
  return Status::OK();
}

Status Catalog::DeleteVolume(const std::string& id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Query("DELETE FROM volumes WHERE id = ?1", {id}).status());
  if (db_->Changes() == 0) return NotFoundError("volume " + id + " not found");
  return Status::OK();
}

Result<VolumeRecord> Catalog::GetVolume(const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("SELECT {} FROM volumes WHERE id = ?1", kVolumeColumns), {id}));
  if (rows.empty()) {
    return NotFoundError("volume " + id + " not found (run `cairn volume list`)");
  }
  return VolumeFromRow(rows[0]);
}

Result<std::vector<VolumeRecord>> Catalog::ListVolumes() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->Query(fmt::format("SELECT {} FROM volumes ORDER BY created, id",
                                                     kVolumeColumns)));
  std::vector<VolumeRecord> out;
  for (const auto& r : rows) out.push_back(VolumeFromRow(r));
  return out;
}

Status Catalog::SetLastSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Query("UPDATE volumes SET last_snapshot = ?2 WHERE id = ?1",
                             {volume_id, SqlNullIfEmpty(snapshot_id)})
                      .status());
  if (db_->Changes() == 0) return NotFoundError("volume " + volume_id + " not found");
  return Status::OK();
}

Status Catalog::InsertSnapshots(const std::vector<SnapshotRecord>& snapshots) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  const std::string sql =
      fmt::format("INSERT INTO snapshots ({}) VALUES ({})", kSnapshotColumns, Placeholders(18));
  for (const auto& s : snapshots) {
    Status st = db_->Query(sql, SnapshotValues(s)).status();
    if (!st.ok()) {
      db_->Exec("ROLLBACK").IgnoreError();  // the insert's error is the one to report
      return st.WithContext("recording snapshot " + s.id + " of " + s.volume_id);
    }
  }
  return db_->Exec("COMMIT");
}

Status Catalog::UpdateSnapshot(const SnapshotRecord& s) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Query(fmt::format("UPDATE snapshots SET {} WHERE id = ?1",
                                         Assignments(kSnapshotColumns)),
                             SnapshotValues(s))
                      .status());
  if (db_->Changes() == 0) return NotFoundError("snapshot " + s.id + " not found in the catalog");
  return Status::OK();
}

Result<SnapshotRecord> Catalog::GetSnapshot(const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("SELECT {} FROM snapshots WHERE id = ?1", kSnapshotColumns), {id}));
  if (rows.empty()) return NotFoundError("snapshot " + id + " not found in the daemon's catalog");
  return SnapshotFromRow(rows[0]);
}

Result<std::vector<SnapshotRecord>> Catalog::ListSnapshots(const std::string& volume_id,
                                                           const std::string& state) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto rows,
                   db_->Query(fmt::format("SELECT {} FROM snapshots WHERE (?1 IS NULL OR "
                                          "volume_id = ?1) AND (?2 IS NULL OR state = ?2) "
                                          "ORDER BY created, id",
                                          kSnapshotColumns),
                              {SqlNullIfEmpty(volume_id), SqlNullIfEmpty(state)}));
  std::vector<SnapshotRecord> out;
  for (const auto& r : rows) out.push_back(SnapshotFromRow(r));
  return out;
}

Result<int64_t> Catalog::AddEvent(const EventRecord& e) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto rows,
                   db_->Query("INSERT INTO events (time, object, kind, message) VALUES (?1, ?2, "
                              "?3, ?4) RETURNING seq",
                              {e.time, e.object, e.kind, e.message}));
  if (rows.empty()) return InternalError("catalog: INSERT INTO events returned no seq");
  return SqlInt(rows[0][0]);
}

Result<std::vector<EventRecord>> Catalog::ListEvents(const EventFilter& f) {
  std::lock_guard lock(mu_);
  return ListEventsLocked(f);
}

Result<EventPage> Catalog::ListEventPage(const EventFilter& f) {
  std::lock_guard lock(mu_);
  EventPage page;
  ASSIGN_OR_RETURN(page.events, ListEventsLocked(f));
  ASSIGN_OR_RETURN(page.first_seq, FirstEventSeqLocked());
  return page;
}

Result<int64_t> Catalog::FirstEventSeqLocked() {
  // The oldest row; with none, one past the last seq ever handed out
  // (sqlite_sequence keeps it for AUTOINCREMENT tables), or 1.
  ASSIGN_OR_RETURN(auto rows,
                   db_->Query("SELECT COALESCE((SELECT min(seq) FROM events), "
                              "(SELECT seq + 1 FROM sqlite_sequence WHERE name = 'events'), 1)"));
  if (rows.empty()) return InternalError("catalog: the first event's seq could not be read");
  return SqlInt(rows[0][0]);
}

Result<int64_t> Catalog::FirstEventToKeep(const std::string& older_than, int64_t keep) {
  std::lock_guard lock(mu_);
  int64_t first_kept = 0;
  if (keep > 0) {  // the keep-th newest, if there are that many
    ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?1", {keep - 1}));
    if (!rows.empty()) first_kept = SqlInt(rows[0][0]);
  }
  if (!older_than.empty()) {
    // Walks from the oldest: as many rows as it will remove, plus one.
    ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT seq FROM events WHERE time >= ?1 ORDER BY seq LIMIT 1", {older_than}));
    int64_t by_age = 0;
    if (!rows.empty()) {
      by_age = SqlInt(rows[0][0]);
    } else {  // every event is older: keep none
      ASSIGN_OR_RETURN(auto last, db_->Query("SELECT max(seq) + 1 FROM events"));
      if (!last.empty() && !std::holds_alternative<std::monostate>(last[0][0])) {
        by_age = SqlInt(last[0][0]);
      }
    }
    first_kept = std::max(first_kept, by_age);
  }
  if (first_kept == 0) return 0;
  ASSIGN_OR_RETURN(auto oldest, db_->Query("SELECT min(seq) FROM events"));
  if (oldest.empty() || std::holds_alternative<std::monostate>(oldest[0][0]) ||
      SqlInt(oldest[0][0]) >= first_kept) {
    return 0;  // nothing below the cut
  }
  return first_kept;
}

Result<int64_t> Catalog::DeleteEventsBefore(int64_t first_kept, int64_t max_rows) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Query("DELETE FROM events WHERE seq < min(?1, (SELECT min(seq) FROM "
                             "events) + ?2)",
                             {first_kept, max_rows})
                      .status()
                      .WithContext(fmt::format("removing events before seq {}", first_kept)));
  return db_->Changes();
}

Result<int64_t> Catalog::CountEvents() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT count(*) FROM events"));
  if (rows.empty()) return InternalError("catalog: SELECT count(*) FROM events returned no row");
  return SqlInt(rows[0][0]);
}

Result<std::vector<EventRecord>> Catalog::ListEventsLocked(const EventFilter& f) {
  const std::string where = f.object.empty() ? "seq > ?1" : "seq > ?1 AND object = ?3";
  ASSIGN_OR_RETURN(
      auto rows, db_->Query(fmt::format("SELECT seq, time, object, kind, message FROM events "
                                        "WHERE {} ORDER BY seq {} LIMIT ?2",
                                        where, f.newest ? "DESC" : "ASC"),
                            f.object.empty() ? std::vector<SqlValue>{f.after, f.limit}
                                             : std::vector<SqlValue>{f.after, f.limit, f.object}));
  std::vector<EventRecord> out;
  for (const auto& r : rows) {
    out.push_back({SqlInt(r[0]), SqlText(r[1]), SqlText(r[2]), SqlText(r[3]), SqlText(r[4])});
  }
  if (f.newest) std::reverse(out.begin(), out.end());
  return out;
}

Result<std::optional<std::string>> Catalog::GetMeta(const std::string& key) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT value FROM meta WHERE key = ?1", {key}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(SqlText(rows[0][0]));
}

Status Catalog::SetMeta(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  return db_
      ->Query(
          "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE "
          "SET value = excluded.value",
          {key, value})
      .status();
}

}  // namespace cairn::service
