// VolumeId: "vol-" followed by 17 lower-case hex digits, as EBS names volumes.
//
// A distinct type so a volume id is never confused with a snapshot id or a
// path. Values; thread-safe to copy.
#ifndef CAIRN_VOLUME_VOLUME_ID_H_
#define CAIRN_VOLUME_VOLUME_ID_H_

#include <compare>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn::volume {

class VolumeId {
 public:
  VolumeId() = default;  // empty: "no volume"
  // A new random id (68 bits from the OS generator).
  static VolumeId Generate();
  // kInvalidArgument naming the text when it is not "vol-" + 17 lower-case
  // hex digits.
  static Result<VolumeId> Parse(std::string_view text);

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const VolumeId&, const VolumeId&) = default;
  friend auto operator<=>(const VolumeId&, const VolumeId&) = default;

 private:
  explicit VolumeId(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_VOLUME_ID_H_
