// Fsck: runs the real `e2fsck -fn` (forced, read-only: it answers "no" to
// every question and changes nothing) on a path — an image file, a block
// device, or the file nbdfuse shows for an NBD export — and turns its exit
// code into a verdict.
//
// e2fsck's exit code is a bit mask (e2fsck(8)):
//   0 no errors          1 errors corrected      2 corrected, reboot
//   4 errors left uncorrected (with -n: errors found)
//   8 operational error (e.g. no ext2/3/4 superblock: nothing was checked)
//   16 usage error       32 cancelled            128 shared-library error
// A verdict is clean only for exit code 0.
//
// Thread-safety: RunFsck may be called from any thread; it starts one child
// process per call and waits for it.
#ifndef CAIRN_FS_FSCK_H_
#define CAIRN_FS_FSCK_H_

#include <string>

#include "core/status.h"

namespace cairn::fs {

struct FsckVerdict {
  bool clean = false;   // exit code 0
  int exit_code = -1;   // e2fsck's, or 128 + signal when it was killed
  std::string meaning;  // the exit code in words ("errors left uncorrected")
  std::string summary;  // e2fsck's last line ("img: 11/2048 files ..., 1100/8192 blocks")
  std::string output;   // stdout and stderr, interleaved, at most 1 MiB; bytes
                        // outside printable ASCII (but \n, \t) shown as ?
};

struct FsckOptions {
  // The e2fsck binary; empty: "e2fsck" searched in PATH, then /usr/sbin, /sbin.
  std::string e2fsck;
};

// The exit code in words ("no errors", "errors left uncorrected", ...).
std::string FsckMeaning(int exit_code);

// Runs `e2fsck -f -n PATH` (stdin /dev/null, LC_ALL=C) and waits for it.
// Errors (not verdicts): e2fsck not found (kFailedPrecondition: install
// e2fsprogs), it could not be started (kIoError). Whatever e2fsck itself
// reports, including exit code 8 for "not an ext filesystem", is a verdict.
Result<FsckVerdict> RunFsck(const std::string& path, const FsckOptions& options = {});

}  // namespace cairn::fs

#endif  // CAIRN_FS_FSCK_H_
