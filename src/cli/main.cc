// The `cairn` executable; everything lives in the cairn_cli library.
#include <malloc.h>

#include "cli/app.h"

int main(int argc, char** argv) {
  // Block and pack buffers are 0.5-16 MiB. glibc would hand each one back to
  // the kernel (mmap/munmap) and fault fresh pages in on the next; keeping
  // them in a few arenas cut backup CPU by ~20% in measurements (the engine
  // reuses buffers, so the resident set stays bounded by its queues).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_ARENA_MAX, 4);
  return cairn::cli::Main(argc, argv);
}
