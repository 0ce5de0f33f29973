#include "volume/volume_type.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::volume {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kTiB = 1024.0 * 1024.0 * 1024.0 * 1024.0;
constexpr uint64_t kHddMinSize = uint64_t{125} << 30;  // EBS minimum for st1/sc1

Status OutOfRange(std::string_view flag, uint64_t value, VolumeType type, uint64_t lo,
                  uint64_t hi) {
  return InvalidArgumentError(fmt::format("{} {} is out of range for {}: allowed {} to {}", flag,
                                          value, VolumeTypeName(type), lo, hi));
}

// Throughput-oriented types, per TiB of size (EBS's published figures).
struct HddRule {
  double baseline_per_tib;
  double burst_per_tib;
  double baseline_max;
  double burst_max;
  double iops;
};
constexpr HddRule kSt1{40, 250, 500, 500, 500};
constexpr HddRule kSc1{12, 80, 192, 250, 250};

}  // namespace

std::string_view VolumeTypeName(VolumeType type) {
  switch (type) {
    case VolumeType::kGp3:
      return "gp3";
    case VolumeType::kIo2:
      return "io2";
    case VolumeType::kSt1:
      return "st1";
    case VolumeType::kSc1:
      return "sc1";
    case VolumeType::kStandard:
      return "standard";
  }
  return "?";
}

Result<VolumeType> ParseVolumeType(std::string_view text) {
  for (VolumeType t : {VolumeType::kGp3, VolumeType::kIo2, VolumeType::kSt1, VolumeType::kSc1,
                       VolumeType::kStandard}) {
    if (text == VolumeTypeName(t)) return t;
  }
  return InvalidArgumentError(fmt::format(
      "--volume-type: unknown type '{}' (allowed: gp3, io2, st1, sc1, standard)", text));
}

Result<QosConfig> ValidateQos(const QosConfig& requested) {
  QosConfig c = requested;
  const std::string_view name = VolumeTypeName(c.type);
  switch (c.type) {
    case VolumeType::kGp3:
      if (c.iops == 0) c.iops = 3000;
      if (c.throughput_mibps == 0) c.throughput_mibps = 125;
      if (c.iops < 3000 || c.iops > 16000) return OutOfRange("--iops", c.iops, c.type, 3000, 16000);
      if (c.throughput_mibps < 125 || c.throughput_mibps > 1000) {
        return OutOfRange("--throughput", c.throughput_mibps, c.type, 125, 1000);
      }
      return c;
    case VolumeType::kIo2:
      if (c.iops == 0) {
        return InvalidArgumentError("--iops is required for io2 volumes (100 to 64000)");
      }
      if (c.iops < 100 || c.iops > 64000) return OutOfRange("--iops", c.iops, c.type, 100, 64000);
      if (c.throughput_mibps != 0) {
        return InvalidArgumentError(fmt::format(
            "--throughput applies only to gp3 volumes (this one is {}; its throughput follows "
            "from --iops)",
            name));
      }
      return c;
    case VolumeType::kSt1:
    case VolumeType::kSc1:
    case VolumeType::kStandard:
      if (c.iops != 0) {
        return InvalidArgumentError(
            fmt::format("--iops applies only to gp3 and io2 volumes (this one is {})", name));
      }
      if (c.throughput_mibps != 0) {
        return InvalidArgumentError(
            fmt::format("--throughput applies only to gp3 volumes (this one is {})", name));
      }
      return c;
  }
  return InvalidArgumentError("--volume-type: unknown type");
}

QosLimits LimitsFor(const QosConfig& config, uint64_t size_bytes) {
  QosLimits l;
  switch (config.type) {
    case VolumeType::kGp3:
      l.iops = config.iops;
      l.bytes_per_sec = config.throughput_mibps * kMiB;
      break;
    case VolumeType::kIo2: {
      l.iops = config.iops;
      const double cap = config.iops > 32000 ? 1000 : 500;
      l.bytes_per_sec = std::min(config.iops * 0.25, cap) * kMiB;
      break;
    }
    case VolumeType::kSt1:
    case VolumeType::kSc1: {
      const HddRule& r = config.type == VolumeType::kSt1 ? kSt1 : kSc1;
      const double tib = static_cast<double>(std::max(size_bytes, kHddMinSize)) / kTiB;
      l.io_unit = 1 << 20;
      l.iops = r.iops;
      l.bytes_per_sec = std::min(r.baseline_per_tib * tib, r.baseline_max) * kMiB;
      l.burst_bytes_per_sec = std::min(r.burst_per_tib * tib, r.burst_max) * kMiB;
      // EBS: a full burst bucket holds 1 TiB of credit per TiB of size.
      l.burst_credit_bytes = tib * kTiB;
      break;
    }
    case VolumeType::kStandard:
      l.unlimited = true;
      break;
  }
  return l;
}

uint64_t CountedOps(const QosLimits& limits, uint64_t bytes) {
  if (limits.io_unit == 0) return 1;
  return std::max<uint64_t>(1, (bytes + limits.io_unit - 1) / limits.io_unit);
}

std::string DescribeLimits(const QosConfig& config, uint64_t size_bytes) {
  QosLimits l = LimitsFor(config, size_bytes);
  if (l.unlimited) return fmt::format("{}, unlimited", VolumeTypeName(config.type));
  if (l.burst_bytes_per_sec > 0) {
    return fmt::format("{}, {:.0f} IOPS, {:.0f} MiB/s baseline, {:.0f} MiB/s burst",
                       VolumeTypeName(config.type), l.iops, l.bytes_per_sec / kMiB,
                       l.burst_bytes_per_sec / kMiB);
  }
  return fmt::format("{}, {:.0f} IOPS, {:.0f} MiB/s", VolumeTypeName(config.type), l.iops,
                     l.bytes_per_sec / kMiB);
}

}  // namespace cairn::volume
