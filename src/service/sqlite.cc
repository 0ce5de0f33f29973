#include "service/sqlite.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace cairn::service {

int64_t SqlInt(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double SqlDouble(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

std::string SqlText(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

std::optional<std::string> SqlOptText(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;
}

SqlValue SqlNullIfEmpty(std::string_view text) {
  if (text.empty()) return std::monostate{};
  return std::string(text);
}

struct SqliteDb::Handle {
  sqlite3* db = nullptr;
  ~Handle() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

namespace {

// Finalizes a prepared statement on every path out.
struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

}  // namespace

SqliteDb::SqliteDb(std::string path, std::unique_ptr<Handle> handle)
    : path_(std::move(path)), handle_(std::move(handle)) {}

SqliteDb::~SqliteDb() = default;

Status SqliteDb::Error(int rc, std::string_view what) const {
  const char* detail = handle_ && handle_->db ? sqlite3_errmsg(handle_->db) : sqlite3_errstr(rc);
  std::string msg = fmt::format("catalog {}: {}: {}", path_, what, detail);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return CorruptionError(msg +
                             " (restore the data directory from a backup, or move "
                             "catalog.db aside to start empty)");
    case SQLITE_FULL:
      return ResourceExhaustedError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(msg);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return PermissionDeniedError(msg);
    case SQLITE_CONSTRAINT:
      return AlreadyExistsError(msg);
    default:
      return IoError(msg);
  }
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  auto handle = std::make_unique<Handle>();
  const int rc =
      sqlite3_open_v2(path.c_str(), &handle->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, std::move(handle)));
  if (rc != SQLITE_OK) return db->Error(rc, "open");
  sqlite3_busy_timeout(db->handle_->db, 5000);
  RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

Status SqliteDb::Exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(handle_->db, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text as sqlite3_errmsg, which Error() reads
  if (rc != SQLITE_OK) return Error(rc, fmt::format("running \"{}\"", text.substr(0, 60)));
  return Status::OK();
}

Result<std::vector<SqlRow>> SqliteDb::Query(std::string_view sql,
                                            const std::vector<SqlValue>& params) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(handle_->db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  Stmt stmt(raw);
  const std::string what = fmt::format("\"{}\"", sql.substr(0, 60));
  if (rc != SQLITE_OK) return Error(rc, "preparing " + what);
  for (size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i + 1);
    const SqlValue& p = params[i];
    if (const auto* v = std::get_if<int64_t>(&p)) {
      rc = sqlite3_bind_int64(raw, idx, *v);
    } else if (const auto* d = std::get_if<double>(&p)) {
      rc = sqlite3_bind_double(raw, idx, *d);
    } else if (const auto* s = std::get_if<std::string>(&p)) {
      rc = sqlite3_bind_text(raw, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(raw, idx);
    }
    if (rc != SQLITE_OK) return Error(rc, fmt::format("binding parameter {} of {}", idx, what));
  }
  std::vector<SqlRow> rows;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const int n = sqlite3_column_count(raw);
    SqlRow row;
    row.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(raw, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(raw, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(raw, c));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
          row.emplace_back(std::string(text, sqlite3_column_bytes(raw, c)));
        }
      }
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return Error(rc, "running " + what);
  return rows;
}

int64_t SqliteDb::Changes() const { return sqlite3_changes64(handle_->db); }

}  // namespace cairn::service
