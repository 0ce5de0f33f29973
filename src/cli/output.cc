#include "cli/output.h"

#include <algorithm>
#include <cstdio>

#include "core/units.h"

namespace cairn::cli {

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;  // not a continuation byte
  }
  return n;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  size_t columns = header.size();
  for (const auto& row : rows) columns = std::max(columns, row.size());
  std::vector<size_t> width(columns, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], DisplayWidth(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      const std::string cell = i < row.size() ? row[i] : std::string();
      if (i > 0) line += "  ";
      line += cell;
      line.append(width[i] - DisplayWidth(cell), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  };
  emit(header);
  size_t total = 0;
  for (size_t w : width) total += w;
  out += std::string(total + (columns > 0 ? 2 * (columns - 1) : 0), '-') + '\n';
  for (const auto& row : rows) emit(row);
  return out;
}

std::string FormatSeconds(double seconds) {
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, seconds < 1 ? "%.2f s" : "%.1f s", seconds);
  } else {
    const auto whole = static_cast<long long>(seconds);
    std::snprintf(buf, sizeof buf, "%lld min %lld s", whole / 60, whole % 60);
  }
  return buf;
}

std::string FormatRate(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "-";
  return FormatBytes(static_cast<uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
}

nlohmann::json SnapshotHeaderJson(const repo::SnapshotHeader& h) {
  // The manifest's own header document, so the CLI shows exactly what is
  // stored (map checksum included) and the two never drift apart.
  return nlohmann::json::parse(repo::HeaderToJson(h));
}

}  // namespace cairn::cli
