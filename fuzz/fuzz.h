// Shared pieces of cairn's fuzz targets.
//
// Each target defines LLVMFuzzerTestOneInput (libFuzzer's entry point) and
// CairnFuzzSeeds() (valid inputs to start from). Built with clang and
// -DCAIRN_FUZZ=libfuzzer the targets are real coverage-guided fuzzers; in the
// normal build, driver.cc runs the seeds plus a fixed number of seeded
// mutations of them, as a regression test in ctest (label `fuzz`).
//
// A target must never crash, hang or allocate without bound on any input,
// and asserts (FUZZ_CHECK) the properties a decoder promises: what it
// accepts lies within the object, and re-encoding what it decoded decodes
// to the same thing.
#ifndef CAIRN_FUZZ_FUZZ_H_
#define CAIRN_FUZZ_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Valid inputs the mutations start from.
std::vector<cairn::Buffer> CairnFuzzSeeds();

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "fuzz: property violated at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                            \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

inline cairn::ByteSpan FuzzBytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

#endif  // CAIRN_FUZZ_FUZZ_H_
