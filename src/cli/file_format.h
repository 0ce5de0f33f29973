// Text forms of file metadata for `snapshot ls` and friends: an `ls -l`
// mode string, a UTC time, and a file name made safe for a terminal.
//
// Thread-safety: plain functions.
#ifndef CAIRN_CLI_FILE_FORMAT_H_
#define CAIRN_CLI_FILE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::cli {

// "drwxr-xr-x", "-rw-r-----", "lrwxrwxrwx", "-rwsr-xr-t" from st_mode.
std::string ModeString(uint32_t mode);
// "file", "dir", "symlink", "char", "block", "fifo", "socket", "unknown".
std::string FileTypeName(uint32_t mode);
// "2023-11-14 22:13:20" (UTC) from nanoseconds since the epoch.
std::string FormatTimeNs(int64_t ns);
// `name` with control characters, backslash and bytes that are not UTF-8
// written as \xNN (and "\\"), so any name prints on one line.
std::string EscapeName(std::string_view name);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_FILE_FORMAT_H_
