// S3Backend: a Backend on an S3-compatible object store (AWS S3, Ceph RADOS
// Gateway, MinIO), through libcurl. The URL "s3://bucket/prefix" keeps key
// "packs/3f/3f2a…" as object "prefix/packs/3f/3f2a…" of "bucket" (no prefix:
// the key itself).
//
//   Put      PUT object, x-amz-content-sha256 = SHA-256 of the body (the
//            server rejects a body that does not match it); S3 PUTs are
//            atomic: readers see the old or the new object
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
// kUnavailable, which RetryingBackend retries: S3Backend itself never
// retries. Every request has a connect timeout and a low-speed limit, so
// none hangs.
//
// Thread-safety: every method may be called from many threads at once. Each
// call borrows a curl handle from a mutex-guarded pool and returns it
// afterwards, so connections are reused across calls.
#ifndef CAIRN_STORAGE_S3_BACKEND_H_
#define CAIRN_STORAGE_S3_BACKEND_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/backend.h"
#include "storage/s3_credentials.h"

namespace cairn::storage {

struct S3Options {
  // "http://127.0.0.1:7480" or "https://s3.example.net"; "" means AWS
  // (https://s3.REGION.amazonaws.com).
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style ("ENDPOINT/bucket/key") or virtual-hosted
  // ("bucket.ENDPOINT/key"). Unset: path-style when an endpoint is given.
  std::optional<bool> path_style;
  std::string ca_bundle;  // PEM file of CAs for HTTPS; "" = system CAs
  S3Credentials credentials;
  std::chrono::seconds connect_timeout{10};
  // A transfer slower than low_speed_bytes per second for low_speed_time
  // is aborted (kUnavailable).
  long low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};

  // endpoint from AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_S3 first), region from
  // AWS_REGION / AWS_DEFAULT_REGION, path_style from CAIRN_S3_PATH_STYLE
  // ("1"/"0"), ca_bundle from AWS_CA_BUNDLE, credentials from
  // LoadS3Credentials().
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
  // credentials (kPermissionDenied) or an unreachable endpoint
  // (kUnavailable) apart before any real work.
  Status CheckBucket();

  // Creates the bucket (PUT bucket); OK if this account already owns it.
  // For tests and scripts; cairn never creates buckets on its own.
  Status CreateBucket();

  Status Put(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo &)> &fn) override;
  Status Remove(std::string_view key) override;
  // "s3://bucket/prefix" (or "s3://bucket").
  std::string Describe() const override;

 private:
  struct Impl;  // holds everything that touches libcurl
  explicit S3Backend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_BACKEND_H_
