// The regression driver for fuzz targets in builds without libFuzzer: runs
// every seed, every file given on the command line, and N mutations of each
// (bit flips, byte changes, truncations, insertions, deletions, splices),
// from a fixed seed so a failure reproduces. A crashing input is written to
// ./fuzz-crash-<target>.bin first, so it can be replayed and kept.
//
//   fuzz_pack [--iterations N] [--seed S] [FILE...]
#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz.h"

namespace {

using cairn::Buffer;

std::string g_target;
Buffer g_current;

void SaveCurrent() {
  std::ofstream out("fuzz-crash-" + g_target + ".bin", std::ios::binary);
  out.write(reinterpret_cast<const char*>(g_current.data()),
            static_cast<std::streamsize>(g_current.size()));
}

void RunOne(const Buffer& input) {
  g_current = input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

Buffer Mutate(const std::vector<Buffer>& pool, std::mt19937_64& rng) {
  Buffer b = pool[rng() % pool.size()];
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const size_t pos = b.empty() ? 0 : rng() % b.size();
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!b.empty()) b[pos] ^= std::byte(1u << (rng() % 8));
        break;
      case 1:  // set a byte to an interesting value
        if (!b.empty()) {
          static const uint8_t kValues[] = {0, 1, 0x7f, 0x80, 0xff, 0x10, 0x40};
          b[pos] = std::byte(kValues[rng() % sizeof kValues]);
        }
        break;
      case 2:  // truncate
        b.resize(pos);
        break;
      case 3:  // insert random bytes
        for (size_t n = 1 + rng() % 8; n > 0; --n) {
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), std::byte(rng() & 0xff));
        }
        break;
      case 4:  // delete a run
        if (!b.empty()) {
          const size_t n = std::min<size_t>(b.size() - pos, 1 + rng() % 16);
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(pos),
                  b.begin() + static_cast<std::ptrdiff_t>(pos + n));
        }
        break;
      case 5: {  // splice the tail of another input
        const Buffer& other = pool[rng() % pool.size()];
        const size_t from = other.empty() ? 0 : rng() % other.size();
        b.resize(pos);
        b.insert(b.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  g_target = argv[0];
  if (size_t slash = g_target.rfind('/'); slash != std::string::npos) {
    g_target = g_target.substr(slash + 1);
  }
  uint64_t iterations = 20000;
  uint64_t seed = 1;
  std::vector<Buffer> pool = CairnFuzzSeeds();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::stoull(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else {
      std::ifstream in(argv[i], std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "%s: cannot read %s\n", g_target.c_str(), argv[i]);
        return 2;
      }
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      pool.push_back(cairn::ToBuffer(bytes));
    }
  }
  if (pool.empty()) pool.emplace_back();
  std::signal(SIGABRT, [](int) { SaveCurrent(); std::_Exit(134); });
  std::signal(SIGSEGV, [](int) { SaveCurrent(); std::_Exit(139); });
  for (const Buffer& b : pool) RunOne(b);
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < iterations; ++i) RunOne(Mutate(pool, rng));
  std::printf("%s: %zu seeds and %llu mutations ran clean (seed %llu)\n", g_target.c_str(),
              pool.size(), static_cast<unsigned long long>(iterations),
              static_cast<unsigned long long>(seed));
  return 0;
}
