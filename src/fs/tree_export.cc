// The walk of `snapshot export` (see tree_export.h).
#include "fs/tree_export.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/log.h"

namespace cairn::fs {

Result<std::vector<std::string>> SplitExportPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") {
      return InvalidArgumentError(
          fmt::format("--path {}: \"..\" is not allowed (give the path from the filesystem root)",
                      EscapeName(path)));
    }
    if (!c.empty() && c != ".") out.emplace_back(c);
    i = j + 1;
  }
  return out;
}

namespace {

// "/a/b" for messages.
std::string Display(const std::vector<std::string>& components) {
  if (components.empty()) return "/";
  std::string s;
  for (const auto& c : components) s += "/" + EscapeName(c);
  return s;
}

class Exporter {
 public:
  Exporter(ExtFilesystem& fs, ArchiveWriter& out, const TreeExportOptions& o)
      : fs_(fs), out_(out), o_(o) {}

  // Exports the tree at `components` (the root when empty).
  Status ExportPath(const std::vector<std::string>& components);

  TreeExportStats stats;

 private:
  struct Frame {
    std::vector<std::string> components;  // of the directory
    uint32_t ino = 0;
    std::vector<DirEntry> entries;  // sorted by name (stable)
    size_t next = 0;
  };

  void Warn(std::string message) {
    ++stats.skipped;
    if (o_.warn) {
      o_.warn(message);
    } else {
      LogWarning(message);
    }
    stats.warnings.push_back(std::move(message));
  }
  Status CheckStop() const {
    if (o_.stop.stop_requested()) return CancelledError("export stopped on request");
    return Status::OK();
  }
  // Writes the member for `ino` (already stat'ed); a directory also gets a
  // frame pushed when it is new.
  Status Emit(const std::vector<std::string>& components, const Inode& st,
              const std::string& where);
  Status PushDirectory(const std::vector<std::string>& components, uint32_t ino);
  Status WriteFile(ArchiveEntry& e, uint32_t ino, const std::string& name);

  ExtFilesystem& fs_;
  ArchiveWriter& out_;
  const TreeExportOptions& o_;
  std::vector<Frame> stack_;
  std::unordered_set<uint32_t> dirs_seen_;
  std::unordered_map<uint32_t, std::string> first_name_;  // inodes with links > 1
};

Status Exporter::PushDirectory(const std::vector<std::string>& components, uint32_t ino) {
  Frame f;
  f.components = components;
  f.ino = ino;
  ASSIGN_OR_RETURN_CTX(f.entries, fs_.List(ino), "listing " + Display(components));
  std::stable_sort(f.entries.begin(), f.entries.end(),
                   [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  stack_.push_back(std::move(f));
  return Status::OK();
}

Status Exporter::ExportPath(const std::vector<std::string>& components) {
  const std::string shown = Display(components);
  std::string raw = "/";
  for (const auto& c : components) raw += (raw.size() > 1 ? "/" : "") + c;
  ASSIGN_OR_RETURN_CTX(uint32_t ino, fs_.Lookup(raw), "--path " + shown);
  ASSIGN_OR_RETURN_CTX(Inode st, fs_.Stat(ino), "--path " + shown);
  if (components.empty()) {
    dirs_seen_.insert(ino);
    RETURN_IF_ERROR(PushDirectory(components, ino));
  } else {
    RETURN_IF_ERROR(Emit(components, st, shown));
  }
  while (!stack_.empty()) {
    RETURN_IF_ERROR(CheckStop());
    Frame& top = stack_.back();
    if (top.next == top.entries.size()) {
      stack_.pop_back();
      continue;
    }
    const size_t i = top.next++;
    const DirEntry e = top.entries[i];
    const std::string dir = fmt::format("{} (inode {})", Display(top.components), top.ino);
    if (i > 0 && top.entries[i - 1].name == e.name) {
      Warn(
          fmt::format("skipped \"{}\" (inode {}) in directory {}: the name repeats in the "
                      "directory (a damaged or crafted filesystem); the first one is kept",
                      EscapeName(e.name), e.ino, dir));
      continue;
    }
    std::vector<std::string> child = top.components;
    child.push_back(e.name);
    if (auto safe = SafeArchivePath(child); !safe.ok()) {
      Warn(fmt::format("skipped an entry (inode {}) in directory {}: {}", e.ino, dir,
                       safe.status().message()));
      continue;
    }
    ASSIGN_OR_RETURN_CTX(Inode st, fs_.Stat(e.ino), "reading " + Display(child));
    RETURN_IF_ERROR(Emit(child, st, dir));  // may push: `top` is invalid after this
  }
  return Status::OK();
}

Status Exporter::Emit(const std::vector<std::string>& components, const Inode& st,
                      const std::string& where) {
  ASSIGN_OR_RETURN(std::string path, SafeArchivePath(components));
  const std::string shown = Display(components);
  const uint32_t type = st.mode & S_IFMT;
  if (type == S_IFSOCK || (type != S_IFREG && type != S_IFDIR && type != S_IFLNK &&
                           type != S_IFCHR && type != S_IFBLK && type != S_IFIFO)) {
    Warn(fmt::format("skipped {} (inode {}) in {}: {}", shown, st.ino, where,
                     type == S_IFSOCK ? "a socket (tar cannot hold one)"
                                      : fmt::format("unknown file type {:o}", type)));
    return Status::OK();
  }
  if (type == S_IFDIR && !dirs_seen_.insert(st.ino).second) {
    Warn(
        fmt::format("skipped directory {} (inode {}) in {}: the directory was already "
                    "exported under another name (a damaged or crafted filesystem)",
                    shown, st.ino, where));
    return Status::OK();
  }
  ArchiveEntry e;
  e.path = std::move(path);
  e.mode = st.mode;
  e.uid = st.uid;
  e.gid = st.gid;
  e.atime_ns = st.atime_ns;
  e.mtime_ns = st.mtime_ns;
  e.ctime_ns = st.ctime_ns;
  if (type != S_IFDIR && st.links > 1) {
    auto [it, first] = first_name_.emplace(st.ino, e.path);
    if (!first) {
      e.hardlink_target = it->second;
      RETURN_IF_ERROR_CTX(out_.Add(e), "archiving " + shown);
      ++stats.hardlinks;
      return Status::OK();
    }
  }
  ASSIGN_OR_RETURN_CTX(auto xattrs, fs_.Xattrs(st.ino), "reading the xattrs of " + shown);
  for (auto& x : xattrs) {
    if (x.first != "system.data") e.xattrs.push_back(std::move(x));
  }
  switch (type) {
    case S_IFREG: {
      e.size = st.size;
      RETURN_IF_ERROR(WriteFile(e, st.ino, shown));
      ++stats.files;
      stats.bytes += st.size;
      return Status::OK();
    }
    case S_IFDIR: {
      RETURN_IF_ERROR_CTX(out_.Add(e), "archiving " + shown);
      ++stats.dirs;
      return PushDirectory(components, st.ino);
    }
    case S_IFLNK: {
      ASSIGN_OR_RETURN_CTX(e.symlink_target, fs_.ReadLink(st.ino), "reading symlink " + shown);
      ++stats.symlinks;
      break;
    }
    default:
      e.rdev_major = st.rdev_major;
      e.rdev_minor = st.rdev_minor;
      ++stats.specials;
      break;
  }
  return out_.Add(e).WithContext("archiving " + shown);
}

Status Exporter::WriteFile(ArchiveEntry& e, uint32_t ino, const std::string& name) {
  if (e.size == 0) return out_.Add(e).WithContext("archiving " + name);
  ASSIGN_OR_RETURN_CTX(std::vector<FileExtent> extents, fs_.FileExtents(ino), "reading " + name);
  uint64_t data = 0;
  for (const FileExtent& x : extents) data += x.length;
  if (data < e.size) {  // holes or unwritten extents: store only the data
    e.sparse = true;
    for (const FileExtent& x : extents) e.data_ranges.emplace_back(x.offset, x.length);
    ++stats.sparse_files;
  }
  RETURN_IF_ERROR_CTX(out_.BeginFile(e), "archiving " + name);
  uint64_t seen = 0;
  Status s = fs_.ReadExtents(ino, extents, [&](ByteSpan piece) -> Status {
    RETURN_IF_ERROR(CheckStop());
    seen += piece.size();
    if (seen > data) {
      return CorruptionError(
          fmt::format("{} (inode {}) holds more than its {} bytes of data", name, ino, data));
    }
    RETURN_IF_ERROR(out_.Write(piece));
    if (o_.progress != nullptr) o_.progress->Add(piece.size());
    return Status::OK();
  });
  RETURN_IF_ERROR_CTX(s, "reading " + name);
  if (seen != data) {
    return CorruptionError(
        fmt::format("{} (inode {}): read {} bytes of its {} bytes of data", name, ino, seen, data));
  }
  stats.data_bytes += data;
  return out_.EndFile().WithContext("archiving " + name);
}

}  // namespace

Result<TreeExportStats> ExportTree(ExtFilesystem& fs, ArchiveWriter& out,
                                   const TreeExportOptions& options) {
  std::vector<std::vector<std::string>> roots;
  for (const std::string& p : options.paths) {
    ASSIGN_OR_RETURN(auto c, SplitExportPath(p));
    roots.push_back(std::move(c));
  }
  if (roots.empty()) roots.push_back({});
  // Sorted, a path follows every path it lies inside: drop those (and repeats).
  std::sort(roots.begin(), roots.end());
  std::vector<std::vector<std::string>> kept;
  for (auto& r : roots) {
    bool inside = false;
    for (const auto& k : kept) {
      if (k.size() <= r.size() && std::equal(k.begin(), k.end(), r.begin())) inside = true;
    }
    if (!inside) kept.push_back(std::move(r));
  }
  Exporter ex(fs, out, options);
  for (const auto& r : kept) RETURN_IF_ERROR(ex.ExportPath(r));
  return std::move(ex.stats);
}

}  // namespace cairn::fs
