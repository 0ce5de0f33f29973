#include "repo/pack.h"

#include <fmt/format.h>

#include <algorithm>

#include "repo/config.h"

namespace cairn::repo {

void EncodePackEntry(const PackEntry& e, Buffer& out) {
  Append(out, e.id.bytes);
  PutU64LE(out, e.offset);
  PutU32LE(out, e.length);
  PutU32LE(out, e.raw_length);
}

PackEntry DecodePackEntry(ByteSpan b) {
  PackEntry e;
  e.id = ChunkId::FromBytes(b.first(32));
  e.offset = GetU64LE(b.subspan(32));
  e.length = GetU32LE(b.subspan(40));
  e.raw_length = GetU32LE(b.subspan(44));
  return e;
}

const PackEntry& PackWriter::Add(const ChunkId& id, ByteSpan blob, uint32_t raw_length) {
  PackEntry e{id, data_.size(), static_cast<uint32_t>(blob.size()), raw_length};
  Append(data_, blob);
  entries_.push_back(e);
  return entries_.back();
}

PackWriter::Finished PackWriter::Finish(const RepoCipher& cipher) {
  Buffer header;
  header.reserve(entries_.size() * kPackEntrySize);
  for (const PackEntry& e : entries_) EncodePackEntry(e, header);
  const size_t before = data_.size();
  cipher.SealTo(header, data_);
  PutU32LE(data_, static_cast<uint32_t>(data_.size() - before));
  Append(data_, AsBytes(kPackMagic));

  Finished f;
  f.id.bytes = Sha256(data_);
  f.data = std::move(data_);
  f.entries = std::move(entries_);
  data_.clear();
  entries_.clear();
  return f;
}

namespace {

// Checks decoded entries against the pack layout: each blob inside
// [0, blobs_end), long enough to be a sealed chunk, no two overlapping.
Status ValidateEntries(const RepoCipher& cipher, const std::vector<PackEntry>& entries,
                       uint64_t blobs_end) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const PackEntry& e = entries[i];
    if (e.offset > blobs_end || e.length > blobs_end - e.offset) {
      return CorruptionError(fmt::format(
          "pack header: entry {} (chunk {}) at offset {} length {} lies outside the blobs "
          "(which end at {})",
          i, e.id.ShortHex(), e.offset, e.length, blobs_end));
    }
    if (e.length < 1 + cipher.overhead()) {
      return CorruptionError(fmt::format("pack header: entry {} (chunk {}) length {} is too short",
                                         i, e.id.ShortHex(), e.length));
    }
    if (e.raw_length > kMaxBlockSize) {
      return CorruptionError(fmt::format(
          "pack header: entry {} (chunk {}) raw length {} exceeds the largest block size", i,
          e.id.ShortHex(), e.raw_length));
    }
  }
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  spans.reserve(entries.size());
  for (const PackEntry& e : entries) spans.emplace_back(e.offset, e.offset + e.length);
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) {
      return CorruptionError(fmt::format("pack header: blobs at offsets {} and {} overlap",
                                         spans[i - 1].first, spans[i].first));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<PackEntry>> ParsePackTail(const RepoCipher& cipher, ByteSpan tail,
                                             uint64_t pack_size, uint64_t* needed_tail) {
  if (tail.size() > pack_size) {
    return InvalidArgumentError(fmt::format(
        "pack tail of {} bytes is longer than the pack ({} bytes)", tail.size(), pack_size));
  }
  if (pack_size < kPackTrailerSize) {
    return CorruptionError(fmt::format("pack of {} bytes is shorter than its trailer", pack_size));
  }
  if (tail.size() < kPackTrailerSize) {
    if (needed_tail != nullptr) *needed_tail = kPackTrailerSize;
    return FailedPreconditionError(
        fmt::format("pack tail of {} bytes does not hold the trailer", tail.size()));
  }
  if (AsStringView(tail.last(kPackMagic.size())) != kPackMagic) {
    return CorruptionError("pack trailer: bad magic (expected CAIRNPK1)");
  }
  const uint64_t header_len = GetU32LE(tail.last(kPackTrailerSize));
  const uint64_t max_header = pack_size - kPackTrailerSize;
  if (header_len > max_header) {
    return CorruptionError(fmt::format("pack trailer: header length {} exceeds the pack ({} bytes)",
                                       header_len, pack_size));
  }
  if (header_len < cipher.overhead() || (header_len - cipher.overhead()) % kPackEntrySize != 0) {
    return CorruptionError(
        fmt::format("pack trailer: header length {} is not a whole number of entries", header_len));
  }
  if (header_len + kPackTrailerSize > tail.size()) {
    if (needed_tail != nullptr) *needed_tail = header_len + kPackTrailerSize;
    return FailedPreconditionError(fmt::format("pack header needs a tail of {} bytes, got {}",
                                               header_len + kPackTrailerSize, tail.size()));
  }
  ByteSpan sealed = tail.subspan(tail.size() - kPackTrailerSize - header_len, header_len);
  Result<Buffer> header = cipher.Open(sealed);
  if (!header.ok()) return header.status().WithContext("pack header");

  std::vector<PackEntry> entries;
  entries.reserve(header->size() / kPackEntrySize);
  for (size_t off = 0; off < header->size(); off += kPackEntrySize) {
    entries.push_back(DecodePackEntry(ByteSpan(*header).subspan(off, kPackEntrySize)));
  }
  RETURN_IF_ERROR(ValidateEntries(cipher, entries, max_header - header_len));
  return entries;
}

Result<std::vector<PackEntry>> ParsePackHeader(const RepoCipher& cipher, ByteSpan pack) {
  uint64_t needed = 0;
  Result<std::vector<PackEntry>> r = ParsePackTail(cipher, pack, pack.size(), &needed);
  if (!r.ok() && r.status().code() == StatusCode::kFailedPrecondition) {
    return CorruptionError("pack truncated: " + r.status().message());
  }
  return r;
}

}  // namespace cairn::repo
