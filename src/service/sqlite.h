// SqliteDb: the one adapter around SQLite (libsqlite3). Everything else in
// service/ speaks to the database through this small surface: run a
// statement with bound values, read rows back as values.
//
// A database is opened in WAL mode with synchronous=FULL (a committed
// transaction survives a crash of the process and of the machine), foreign
// keys on, and a busy timeout.
//
// Thread-safety: none. One SqliteDb is used by one thread at a time; the
// owner (Catalog) serializes access with its own mutex.
#ifndef CAIRN_SERVICE_SQLITE_H_
#define CAIRN_SERVICE_SQLITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace cairn::service {

// A value bound to a statement or read from a row. std::monostate is NULL.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlRow = std::vector<SqlValue>;

// Accessors for row cells: NULL reads as 0 / "" / nullopt.
int64_t SqlInt(const SqlValue& v);
double SqlDouble(const SqlValue& v);
std::string SqlText(const SqlValue& v);
std::optional<std::string> SqlOptText(const SqlValue& v);
// An empty string binds as NULL.
SqlValue SqlNullIfEmpty(std::string_view text);

class SqliteDb {
 public:
  // Opens (creating) the database file at `path`. kIoError / kCorruption
  // naming the path if SQLite refuses it.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without parameters (schema, BEGIN, COMMIT).
  Status Exec(std::string_view sql);
  // Runs one statement with `params` bound to ?1, ?2, ...; returns its rows
  // (none for INSERT/UPDATE/DELETE).
  Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params = {});
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  const std::string& path() const { return path_; }

 private:
  struct Handle;
  SqliteDb(std::string path, std::unique_ptr<Handle> handle);
  Status Error(int rc, std::string_view what) const;

  std::string path_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_SQLITE_H_
