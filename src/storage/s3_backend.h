// S3Backend: a Backend on an S3-compatible object store (AWS S3, Ceph RADOS
// Gateway, MinIO), through libcurl (s3_client.h). The URL
// "s3://bucket/prefix" keeps key "packs/3f/3f2a…" as object
// "prefix/packs/3f/3f2a…" of "bucket" (no prefix: the key itself).
//
//   Put      PUT object with Content-MD5 and x-amz-content-sha256 (the
//            server checks both); S3 PUTs are atomic: readers see the old or
//            the new object. Above multipart_threshold: a multipart upload
//            (s3_multipart.cc) of part_size parts, each checked the same
//            way, aborted on any failure
//   PutIfAbsent  PUT with "If-None-Match: *": 412 is kAlreadyExists; a
//            server that refuses the header (501) is kFailedPrecondition
//   Get      GET object
//   GetRange GET with "Range: bytes=a-b"; 416 or a short reply is the
//            contract's "fewer bytes"
//   Stat     HEAD object (Content-Length, Last-Modified)
//   List     ListObjectsV2 pages, following continuation tokens
//   Remove   DELETE object (404 is OK)
// Requests are signed by libcurl (CURLOPT_AWS_SIGV4); cairn never computes
// SigV4 itself.
//
// Errors: 404 kNotFound (a missing bucket says so, with the endpoint); 403
// kPermissionDenied naming the access key id and the bucket; 400
// kInvalidArgument with S3's error code and message; 5xx, 429, 503
// SlowDown, RequestTimeout, connection failures, resets and timeouts are
// kUnavailable naming the endpoint, which RetryingBackend retries:
// S3Backend itself never retries. Every request has a connect timeout and a
// low-speed limit, so none hangs.
//
// Thread-safety: every method may be called from many threads at once; at
// most options.connections requests are in flight, the rest wait for a
// slot. Curl handles (and so their connections) are pooled and reused.
#ifndef CAIRN_STORAGE_S3_BACKEND_H_
#define CAIRN_STORAGE_S3_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/backend.h"
#include "storage/s3_credentials.h"

namespace cairn::storage {

class S3Client;

struct S3Options {
  // "http://127.0.0.1:7480" or "https://s3.example.net"; "" means AWS
  // (https://s3.REGION.amazonaws.com).
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style ("ENDPOINT/bucket/key") or virtual-hosted
  // ("bucket.ENDPOINT/key"). Unset: virtual-hosted for AWS (no endpoint, or
  // one on amazonaws.com), path-style for any other endpoint (self-hosted
  // servers rarely have the wildcard DNS virtual hosts need).
  std::optional<bool> path_style;
  std::string ca_bundle;  // PEM file of CAs for HTTPS; "" = system CAs
  S3Credentials credentials;
  std::chrono::seconds connect_timeout{10};
  // A transfer slower than low_speed_bytes per second for low_speed_time
  // is aborted (kUnavailable).
  long low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};
  // Requests in flight at once (and idle connections kept). REQUIRES >= 1.
  int connections = kDefaultConnections;
  // Objects larger than this go up as a multipart upload of part_size parts
  // (the last one shorter). S3 needs parts of at least 5 MiB (but the last).
  uint64_t multipart_threshold = uint64_t{64} << 20;
  uint64_t part_size = uint64_t{16} << 20;

  static constexpr int kDefaultConnections = 8;
  static constexpr uint64_t kMinPartSize = uint64_t{5} << 20;

  // endpoint from AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_S3 first), region from
  // AWS_REGION / AWS_DEFAULT_REGION, path_style from CAIRN_S3_PATH_STYLE
  // ("1"/"0"), ca_bundle from AWS_CA_BUNDLE, multipart_threshold and
  // part_size from CAIRN_S3_MULTIPART_THRESHOLD / CAIRN_S3_PART_SIZE ("64M",
  // "5MiB", bytes), credentials from LoadS3Credentials(). kInvalidArgument
  // naming the variable for a malformed value or a part size below 5 MiB.
  static Result<S3Options> FromEnvironment();
};

class S3Backend : public Backend {
 public:
  // Parses "s3://bucket[/prefix]"; does no network I/O. kInvalidArgument for
  // a malformed URL or endpoint.
  static Result<std::unique_ptr<S3Backend>> Open(std::string_view url, S3Options options);

  ~S3Backend() override;
  S3Backend(const S3Backend &) = delete;
  S3Backend &operator=(const S3Backend &) = delete;

  // One cheap request (a one-key listing under the prefix) that tells a
  // missing bucket (kNotFound "bucket b does not exist at ENDPOINT"), wrong
  // credentials (kPermissionDenied) or an unreachable or silent endpoint
  // (kUnavailable; no answer within 10 s) apart before any real work.
  Status CheckBucket();

  // Creates the bucket (PUT bucket); OK if this account already owns it.
  // For tests and scripts; cairn never creates buckets on its own.
  Status CreateBucket();

  Status Put(std::string_view key, ByteSpan data) override;
  // x-amz-content-sha256 is `sha256` (not recomputed); the server checks it.
  Status PutWithSha256(std::string_view key, ByteSpan data, const Digest& sha256) override;
  Status PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo &)> &fn) override;
  Status Remove(std::string_view key) override;
  // "s3://bucket/prefix" (or "s3://bucket").
  std::string Describe() const override;

  // Whether `path_style` addressing is used (after the defaults above).
  bool path_style() const { return path_style_; }

 private:
  S3Backend(std::unique_ptr<S3Client> client, bool path_style);
  Status PutObject(std::string_view key, ByteSpan data, bool if_absent, const Digest* sha256);

  std::unique_ptr<S3Client> client_;
  const bool path_style_;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_BACKEND_H_
