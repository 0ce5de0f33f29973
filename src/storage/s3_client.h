// S3Client: the HTTP side of S3Backend, and the only code that touches
// libcurl (s3_client.cc). It turns an S3Request into one signed HTTP
// exchange and maps what went wrong to a Status; S3Backend (s3_backend.cc)
// and the multipart upload (s3_multipart.cc) build the requests.
//
//   - libcurl signs every request (CURLOPT_AWS_SIGV4); x-amz-content-sha256
//     is added here on every request (curl 7.88 does not), and Content-MD5
//     whenever the request carries a body (S3 and RGW check both, so a body
//     damaged on the way is refused, never stored).
//   - At most `connections` requests are in flight at once (callers beyond
//     that wait); idle curl handles are kept in a pool of that size, so
//     connections are reused (keep-alive) across calls.
//   - Every request has a connect timeout and a low-speed limit: none hangs.
//
// Internal to storage/; no libcurl type appears here.
//
// Thread-safety: Perform may be called from many threads at once.
#ifndef CAIRN_STORAGE_S3_CLIENT_H_
#define CAIRN_STORAGE_S3_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "storage/s3_backend.h"

namespace cairn::storage {

struct S3Request {
  const char* method = "GET";        // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // query string already sorted and encoded
  ByteSpan body;                     // PUT and POST
  std::string body_sha256;           // hex SHA-256 of body if known; "" = compute it
  std::vector<std::string> headers;  // "Name: value", each signed by curl
  // What the request is about, for messages: "writing s3://b/p/config".
  std::string what;
  // Limit on the whole exchange (0: none; the low-speed limit still holds).
  std::chrono::milliseconds timeout{0};
};

struct S3Response {
  long status = 0;
  Buffer body;
  int64_t content_length = -1;  // HEAD: the object's size
  int64_t last_modified = -1;   // seconds since the epoch, -1 if unknown
  std::string etag;             // the ETag header, quotes kept; "" if none
};

class S3Client {
 public:
  // REQUIRES: options validated by S3Backend::Open; `bucket_url` is
  // "ENDPOINT/bucket" (path-style) or "SCHEME://bucket.HOST" (virtual-hosted).
  S3Client(S3Options options, std::string bucket, std::string prefix, std::string endpoint,
           std::string bucket_url);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // One HTTP exchange. A reply of any HTTP status is a Response; only
  // transport failures are errors: kUnavailable for refused or reset
  // connections, timeouts and DNS failures (naming the endpoint and what to
  // check), kFailedPrecondition for an untrusted TLS certificate.
  Result<S3Response> Perform(const S3Request& req);

  // The Status for a reply that is not the expected success, `what` naming
  // the operation: 404 NoSuchBucket / 403 / 301 / 5xx ... (docs/s3.md).
  Status HttpError(const S3Response& r, std::string_view what) const;

  const S3Options& options() const { return opts_; }
  const std::string& bucket() const { return bucket_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& bucket_url() const { return bucket_url_; }
  // "s3://bucket/prefix" (or "s3://bucket").
  std::string Describe() const;
  // The object name of `key` in the bucket: "prefix/key".
  std::string ObjectName(std::string_view key) const;
  // bucket_url + "/" + the encoded object name.
  std::string ObjectUrl(std::string_view key) const;

 private:
  void* AcquireHandle();        // waits for a free connection slot
  void ReleaseHandle(void* h);  // returns the handle and the slot

  const S3Options opts_;
  const std::string bucket_;
  const std::string prefix_;
  const std::string endpoint_;
  const std::string bucket_url_;
  const std::string userpwd_;  // "AK:SK"
  const std::string sigv4_;    // "aws:amz:REGION:s3"

  std::mutex mu_;
  std::condition_variable slot_free_;
  int in_flight_ = 0;        // GUARDED_BY(mu_)
  std::vector<void*> idle_;  // GUARDED_BY(mu_): CURL* handles
};

// AWS's URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, the
// rest is %XX (upper-case hex); '/' stays too when `keep_slash`. libcurl
// signs the URL as given, so it must already be in canonical form.
std::string S3UriEncode(std::string_view s, bool keep_slash);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_CLIENT_H_
