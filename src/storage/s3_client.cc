#include "storage/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>
#include <utility>

#include "core/crypto.h"
#include "core/encoding.h"
#include "storage/s3_xml.h"

namespace cairn::storage {
namespace {

// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Never reserve more than this up front for a reply body (a lying
// Content-Length must not exhaust memory; the body still grows as needed).
constexpr int64_t kMaxReserve = int64_t{256} << 20;
// curl's transfer buffers: large ones mean fewer callbacks and syscalls for
// multi-megabyte packs (measured in docs/s3.md).
constexpr long kUploadBuffer = 1 << 20;
constexpr long kDownloadBuffer = 512 << 10;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  S3Response* resp;
  ByteSpan upload;
  size_t pos = 0;
};

size_t OnBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const auto* bytes = reinterpret_cast<const std::byte*>(ptr);
  t->resp->body.insert(t->resp->body.end(), bytes, bytes + size * nmemb);
  return size * nmemb;
}

// Keeps the ETag and reserves the body's size from Content-Length.
size_t OnHeader(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::string_view line(ptr, size * nmemb);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
      value.remove_prefix(1);
    }
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
      value.remove_suffix(1);
    }
    if (name.size() == 4 && strncasecmp(name.data(), "etag", 4) == 0) {
      t->resp->etag = std::string(value);
    } else if (name.size() == 14 && strncasecmp(name.data(), "content-length", 14) == 0) {
      int64_t n = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), n).ec == std::errc() &&
          n > 0) {
        t->resp->body.reserve(static_cast<size_t>(std::min(n, kMaxReserve)));
      }
    }
  }
  return size * nmemb;
}

size_t OnRead(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = std::min(size * nmemb, t->upload.size() - t->pos);
  std::copy_n(reinterpret_cast<const char*>(t->upload.data()) + t->pos, n, ptr);
  t->pos += n;
  return n;
}

// Lets curl rewind an upload (it does after a redirect or a 100-continue
// refusal, or when a reused connection turned out dead).
int OnSeek(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

std::string S3UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

S3Client::S3Client(S3Options options, std::string bucket, std::string prefix, std::string endpoint,
                   std::string bucket_url)
    : opts_(std::move(options)),
      bucket_(std::move(bucket)),
      prefix_(std::move(prefix)),
      endpoint_(std::move(endpoint)),
      bucket_url_(std::move(bucket_url)),
      userpwd_(opts_.credentials.access_key_id + ":" + opts_.credentials.secret_access_key),
      sigv4_("aws:amz:" + opts_.region + ":s3") {
  InitCurlOnce();
}

S3Client::~S3Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

std::string S3Client::Describe() const {
  return prefix_.empty() ? "s3://" + bucket_ : "s3://" + bucket_ + "/" + prefix_;
}

std::string S3Client::ObjectName(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "/" + std::string(key);
}

std::string S3Client::ObjectUrl(std::string_view key) const {
  return bucket_url_ + "/" + S3UriEncode(ObjectName(key), /*keep_slash=*/true);
}

void* S3Client::AcquireHandle() {
  std::unique_lock lock(mu_);
  const int limit = std::max(opts_.connections, 1);
  slot_free_.wait(lock, [&] { return in_flight_ < limit; });
  ++in_flight_;
  if (!idle_.empty()) {
    void* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  lock.unlock();
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    lock.lock();
    --in_flight_;
    slot_free_.notify_one();
  }
  return h;
}

void S3Client::ReleaseHandle(void* h) {
  // reset keeps the handle's open connection and caches.
  curl_easy_reset(static_cast<CURL*>(h));
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (idle_.size() < static_cast<size_t>(std::max(opts_.connections, 1))) {
      idle_.push_back(h);
      h = nullptr;
    }
  }
  slot_free_.notify_one();
  if (h != nullptr) curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<S3Response> S3Client::Perform(const S3Request& req) {
  const std::string_view method = req.method;
  const bool has_body = method == "PUT" || method == "POST";
  // Hash before taking a connection slot: the slot is for the network.
  std::vector<std::string> lines = req.headers;
  if (has_body) {
    // The server recomputes both and refuses a body that matches neither
    // (400 XAmzContentSHA256Mismatch / BadDigest): nothing damaged lands.
    lines.push_back("x-amz-content-sha256: " +
                    (req.body_sha256.empty() ? HexEncode(Sha256(req.body)) : req.body_sha256));
    lines.push_back("Content-MD5: " + Base64Encode(Md5(req.body)));
  } else {
    lines.push_back("x-amz-content-sha256: " + std::string(kEmptySha256));
  }
  if (!opts_.credentials.session_token.empty()) {
    lines.push_back("x-amz-security-token: " + opts_.credentials.session_token);
  }

  CURL* h = static_cast<CURL*>(AcquireHandle());
  if (h == nullptr) return ResourceExhaustedError("curl_easy_init failed");
  S3Response resp;
  Transfer transfer{&resp, req.body, 0};
  char errbuf[CURL_ERROR_SIZE] = {0};
  // Never add an empty header: curl would sign it without sending it.
  curl_slist* headers = nullptr;
  for (const std::string& line : lines) headers = curl_slist_append(headers, line.c_str());

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(opts_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, opts_.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opts_.low_speed_time.count()));
  if (req.timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  }
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(h, CURLOPT_USERPWD, userpwd_.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kDownloadBuffer);
  curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
  if (!opts_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opts_.ca_bundle.c_str());
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBuffer);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, static_cast<void*>(&transfer));
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, static_cast<void*>(&transfer));
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    if (method == "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method);
  }

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_off_t length = -1;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK) {
      resp.content_length = length;
    }
    curl_off_t filetime = -1;
    if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &filetime) == CURLE_OK) {
      resp.last_modified = filetime;
    }
  }
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  ReleaseHandle(h);
  if (rc == CURLE_OK) return resp;

  const std::string cause = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  const std::string about = req.what.empty() ? std::string(method) + " " + req.url : req.what;
  switch (rc) {
    case CURLE_URL_MALFORMAT:
      return InvalidArgumentError(fmt::format("{}: bad URL {}: {}", about, req.url, cause));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(
          fmt::format("{}: the TLS certificate of S3 endpoint {} is not trusted ({}): set "
                      "AWS_CA_BUNDLE to its CA file",
                      about, endpoint_, cause));
    case CURLE_OUT_OF_MEMORY:
      return ResourceExhaustedError(fmt::format("{}: {}", about, cause));
    default:
      // Refused or reset connections, timeouts, DNS failures, short or
      // garbled replies (CURLE_UNSUPPORTED_PROTOCOL is "Received HTTP/0.9"):
      // all worth another try. The scheme itself was checked in Open.
      return UnavailableError(
          fmt::format("{}: S3 endpoint {} failed: {} (check --s3-endpoint / AWS_ENDPOINT_URL "
                      "and that the server is up and reachable)",
                      about, endpoint_, cause));
  }
}

Status S3Client::HttpError(const S3Response& r, std::string_view what) const {
  S3Error e = ParseS3Error(AsStringView(r.body));
  std::string detail = fmt::format("HTTP {}", r.status);
  if (!e.code.empty()) detail += " " + e.code;
  if (!e.message.empty()) detail += ": " + e.message;
  if (e.code == "NoSuchBucket") {
    return NotFoundError(
        fmt::format("bucket {} does not exist at {}: create it first, or fix "
                    "the repository URL / --s3-endpoint",
                    bucket_, endpoint_));
  }
  if (e.code == "QuotaExceeded" || e.code == "EntityTooLarge") {
    // RGW answers a full bucket or user quota with 403 QuotaExceeded: out of
    // space, not a credentials problem.
    return ResourceExhaustedError(
        fmt::format("{} refused {}: the bucket {} is out of space (quota); free space, raise "
                    "the quota, or run `cairn repo gc` ({})",
                    Describe(), what, bucket_, detail));
  }
  if (r.status == 403) {
    return PermissionDeniedError(
        fmt::format("access denied by {} for key {}: check the credentials and "
                    "bucket policy ({}; {})",
                    Describe(), opts_.credentials.access_key_id, what, detail));
  }
  if (r.status == 404) return NotFoundError(fmt::format("{}: no such object ({})", what, detail));
  if (r.status == 301 || e.code == "PermanentRedirect" ||
      e.code == "AuthorizationHeaderMalformed" || e.code == "IllegalLocationConstraintException") {
    std::string where = XmlFirst(AsStringView(r.body), "Region").value_or("");
    return FailedPreconditionError(
        fmt::format("bucket {} is not in region {}{}: set AWS_REGION ({}; {})", bucket_,
                    opts_.region, where.empty() ? "" : " but in " + where, what, detail));
  }
  if (r.status == 408 || r.status == 429 || r.status >= 500 || e.code == "RequestTimeout" ||
      e.code == "SlowDown" || e.code == "OperationAborted") {
    return UnavailableError(fmt::format("{}: {} from S3 endpoint {}", what, detail, endpoint_));
  }
  if (r.status == 400) return InvalidArgumentError(fmt::format("{}: {}", what, detail));
  if (r.status == 412) return FailedPreconditionError(fmt::format("{}: {}", what, detail));
  return IoError(fmt::format("{}: unexpected reply {}", what, detail));
}

}  // namespace cairn::storage
