// Volume types and their performance limits, after Amazon EBS.
//
// A QosConfig is what the user asked for (`--volume-type`, `--iops`,
// `--throughput`); ValidateQos() checks it and fills in the type's defaults;
// LimitsFor() turns a validated config and a volume size into the numbers
// the token buckets enforce (qos.h). The rules, simplified from EBS and
// documented in docs/volumes.md:
//
//   type      IOPS                     throughput (MiB/s)            I/O unit
//   gp3       3,000 (3,000..16,000)    125 (125..1,000)              256 KiB
//   io2       --iops required (100..64,000)
//                                      IOPS x 0.25, at most 500
//                                      (1,000 above 32,000 IOPS)     256 KiB
//   st1       500                      baseline 40/TiB, burst 250/TiB,
//                                      both at most 500              1 MiB
//   sc1       250                      baseline 12/TiB, burst 80/TiB,
//                                      burst at most 250,
//                                      baseline at most 192          1 MiB
//   standard  unlimited                unlimited                     -
//
// One I/O of B bytes counts as ceil(B / unit) operations (at least one);
// trim and write-zeroes count as one operation and no bytes; flush is free.
// st1/sc1 sizes below EBS's 125 GiB minimum get the 125 GiB figures. IOPS are
// not tied to size (EBS's per-GiB ratios are not enforced).
//
// Pure functions on values; thread-safe.
#ifndef CAIRN_VOLUME_VOLUME_TYPE_H_
#define CAIRN_VOLUME_VOLUME_TYPE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn::volume {

enum class VolumeType { kGp3, kIo2, kSt1, kSc1, kStandard };

// "gp3", "io2", "st1", "sc1", "standard".
std::string_view VolumeTypeName(VolumeType type);
// kInvalidArgument: "--volume-type: unknown type 'x' (allowed: gp3, io2, st1,
// sc1, standard)".
Result<VolumeType> ParseVolumeType(std::string_view text);

struct QosConfig {
  VolumeType type = VolumeType::kGp3;
  uint32_t iops = 0;              // 0 = not given (the type's default)
  uint32_t throughput_mibps = 0;  // 0 = not given (gp3 only)
  friend bool operator==(const QosConfig&, const QosConfig&) = default;
};

// Checks `requested` and returns it with defaults filled in (gp3: 3000 and
// 125; st1/sc1/standard keep 0, meaning "derived from the type"). Errors are
// kInvalidArgument naming the flag and the allowed range, e.g. "--iops 70000
// is out of range for io2: allowed 100 to 64000", "--throughput applies only
// to gp3 volumes (this one is io2)", "--iops is required for io2 volumes
// (100 to 64000)".
Result<QosConfig> ValidateQos(const QosConfig& requested);

// The numbers a volume of `size_bytes` with `config` is held to.
struct QosLimits {
  bool unlimited = false;        // standard: no bucket at all
  double iops = 0;               // operations per second (sustained)
  uint64_t io_unit = 256 << 10;  // bytes per counted operation
  double bytes_per_sec = 0;      // sustained (baseline) throughput
  // Throughput-oriented types: the peak rate, and how many bytes of credit
  // above the baseline a full burst bucket holds. 0 = no burst model.
  double burst_bytes_per_sec = 0;
  double burst_credit_bytes = 0;
  friend bool operator==(const QosLimits&, const QosLimits&) = default;
};

// REQUIRES: `config` came from ValidateQos().
QosLimits LimitsFor(const QosConfig& config, uint64_t size_bytes);

// Counted operations for one read or write of `bytes` bytes:
// max(1, ceil(bytes / limits.io_unit)).
uint64_t CountedOps(const QosLimits& limits, uint64_t bytes);

// "gp3, 3000 IOPS, 125 MiB/s" — for `volume show` and logs.
std::string DescribeLimits(const QosConfig& config, uint64_t size_bytes);

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_VOLUME_TYPE_H_
