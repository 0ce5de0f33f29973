#include "cli/file_format.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>

namespace cairn::cli {

std::string ModeString(uint32_t mode) {
  std::string s(10, '-');
  switch (mode & S_IFMT) {
    case S_IFDIR:
      s[0] = 'd';
      break;
    case S_IFLNK:
      s[0] = 'l';
      break;
    case S_IFCHR:
      s[0] = 'c';
      break;
    case S_IFBLK:
      s[0] = 'b';
      break;
    case S_IFIFO:
      s[0] = 'p';
      break;
    case S_IFSOCK:
      s[0] = 's';
      break;
    default:
      break;
  }
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) s[1 + i] = rwx[i];
  }
  auto special = [&](int at, uint32_t bit, char with_x, char without_x) {
    if (mode & bit) s[at] = s[at] == '-' ? without_x : with_x;
  };
  special(3, S_ISUID, 's', 'S');
  special(6, S_ISGID, 's', 'S');
  special(9, S_ISVTX, 't', 'T');
  return s;
}

std::string FileTypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown";
  }
}

std::string FormatTimeNs(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1'000'000'000);
  if (ns < 0 && ns % 1'000'000'000 != 0) --seconds;
  struct tm tm {};
  if (gmtime_r(&seconds, &tm) == nullptr) return std::to_string(seconds);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string EscapeName(std::string_view name) {
  std::string out;
  size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    size_t len = 0;
    if (c >= 0x20 && c < 0x7f) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool valid = len > 0 && i + len <= name.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(name[i + k]) & 0xC0) == 0x80;
    }
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (valid) {
      out.append(name.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

}  // namespace cairn::cli
