// CheckRepository, part 3 (read_data): every chosen pack is read whole, its
// name rehashed, its header compared with the index, every chunk decoded.
#include <algorithm>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

#include "core/crypto.h"
#include "core/thread_pool.h"
#include "repo/check_internal.h"
#include "repo/chunk.h"
#include "repo/pack.h"

namespace cairn::repo {
namespace {

bool ByOffset(const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; }

std::string Describe(const PackEntry& e) {
  return fmt::format("chunk {} (length {}, raw length {})", e.id.Hex(), e.length,
                     e.raw_length);
}

// Reports where the pack's own header and the index disagree (first place).
void CompareHeader(const std::string& key, const PackId& id, std::vector<PackEntry> header,
                   std::vector<PackEntry> indexed, FindingSink& sink) {
  std::sort(header.begin(), header.end(), ByOffset);
  std::sort(indexed.begin(), indexed.end(), ByOffset);
  auto same = [](const PackEntry& a, const PackEntry& b) {
    return a.id == b.id && a.offset == b.offset && a.length == b.length &&
           a.raw_length == b.raw_length;
  };
  auto [h, i] = std::mismatch(header.begin(), header.end(), indexed.begin(), indexed.end(), same);
  if (h == header.end() && i == indexed.end()) return;
  std::string where;
  if (h != header.end() && i != indexed.end()) {
    where = fmt::format("offset {}: the header lists {}, the index {}",
                        std::min(h->offset, i->offset), Describe(*h), Describe(*i));
  } else if (h != header.end()) {
    where = fmt::format("offset {}: the header lists {}, the index nothing", h->offset,
                        Describe(*h));
  } else {
    where = fmt::format("offset {}: the index lists {}, the header nothing", i->offset,
                        Describe(*i));
  }
  sink.Error(key, fmt::format("pack {}: its header and the index disagree ({} vs {} "
                              "entries; first difference at {}): run `cairn repo "
                              "rebuild-index`", id.Hex(), header.size(), indexed.size(), where));
}

}  // namespace

std::vector<IndexedPack> ChooseDataPacks(std::vector<IndexedPack> packs, double share,
                                         uint64_t seed) {
  if (share >= 1.0 || packs.empty()) return packs;
  size_t n = std::max<size_t>(1, static_cast<size_t>(std::ceil(share * packs.size())));
  auto rank = [seed](const PackId& id) {
    Buffer b;
    PutU64LE(b, seed);
    Append(b, id.bytes);
    return Sha256(b);
  };
  std::vector<std::pair<Digest, size_t>> order;
  for (size_t i = 0; i < packs.size(); ++i) order.emplace_back(rank(packs[i].id), i);
  std::sort(order.begin(), order.end());
  std::vector<IndexedPack> chosen;
  for (size_t i = 0; i < n; ++i) chosen.push_back(std::move(packs[order[i].second]));
  return chosen;
}

DataCounters ReadPackData(Repository& repo, const std::vector<IndexedPack>& packs,
                          const CheckOptions& options, FindingSink& sink,
                          DataDamage& damage) {
  std::mutex mu;
  DataCounters counters;  // guarded by mu, as is `damage`
  const RepoCipher& cipher = repo.cipher();
  auto check_one = [&](const IndexedPack& pack) {
    const std::string key = PackKey(pack.id);
    Result<Buffer> data = repo.backend().Get(key);
    if (!data.ok()) {
      sink.Error(key, fmt::format("pack {}: cannot read it: {}", pack.id.Hex(), data.status().message()));
      if (data.status().code() == StatusCode::kNotFound) {
        std::lock_guard lock(mu);
        damage.missing_packs.insert(pack.id);
      }
      return;
    }
    if (options.progress != nullptr) options.progress->Add(data->size());
    std::vector<std::pair<PackId, uint64_t>> bad;
    uint64_t verified = 0;
    if (PackId::FromBytes(Sha256(*data)) != pack.id) {
      sink.Error(key, fmt::format("pack {}: content does not match its name: it changed after "
                                  "it was written (findings for its chunks follow, if any)",
                                  pack.id.Hex()));
    }
    Result<std::vector<PackEntry>> header = ParsePackHeader(cipher, *data);
    if (!header.ok()) {
      sink.Error(key, fmt::format("pack {}: header unreadable: {}; the index still locates "
                                  "its chunks", pack.id.Hex(), header.status().message()));
    } else {
      CompareHeader(key, pack.id, std::move(*header), pack.entries, sink);
    }
    for (const PackEntry& e : pack.entries) {
      std::string problem;
      if (e.offset > data->size() || e.length > data->size() - e.offset) {
        problem = fmt::format("chunk {}: lies beyond the end of the pack ({} bytes)",
                              e.id.Hex(), data->size());
      } else if (Result<Buffer> plain = DecodeChunk(cipher, e.id,
                                                    ByteSpan(*data).subspan(e.offset, e.length),
                                                    e.raw_length);
                 !plain.ok()) {
        problem = plain.status().message();
      }
      ++verified;
      if (problem.empty()) continue;
      bad.emplace_back(pack.id, e.offset);
      sink.Error(key, fmt::format("pack {} offset {}: {}", pack.id.Hex(), e.offset, problem));
    }
    std::lock_guard lock(mu);
    ++counters.packs_read;
    counters.chunks_verified += verified;
    counters.bytes_read += data->size();
    damage.bad_blobs.insert(bad.begin(), bad.end());
  };
  {
    ThreadPool pool(options.threads);
    for (const IndexedPack& pack : packs) pool.Submit([&check_one, &pack] { check_one(pack); });
  }  // the destructor runs every task, then joins
  return counters;
}

}  // namespace cairn::repo
