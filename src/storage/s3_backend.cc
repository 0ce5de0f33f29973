#include "storage/s3_backend.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto.h"
#include "core/encoding.h"
#include "storage/s3_xml.h"

namespace cairn::storage {
namespace {

// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr size_t kMaxIdleHandles = 64;
constexpr int kListPageKeys = 1000;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Env(const char *name) {
  const char *v = getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// AWS's URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, the
// rest is %XX (upper-case hex); '/' stays too when `keep_slash`. libcurl
// signs the URL as given, so it must already be in canonical form.
std::string UriEncode(std::string_view s, bool keep_slash) {
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

size_t WriteToBuffer(char *ptr, size_t size, size_t nmemb, void *userdata) {
  auto *out = static_cast<Buffer *>(userdata);
  const auto *bytes = reinterpret_cast<const std::byte *>(ptr);
  out->insert(out->end(), bytes, bytes + size * nmemb);
  return size * nmemb;
}

struct UploadState {
  ByteSpan data;
  size_t pos = 0;
};

size_t ReadFromSpan(char *ptr, size_t size, size_t nmemb, void *userdata) {
  auto *st = static_cast<UploadState *>(userdata);
  size_t n = std::min(size * nmemb, st->data.size() - st->pos);
  std::copy_n(reinterpret_cast<const char *>(st->data.data()) + st->pos, n, ptr);
  st->pos += n;
  return n;
}

// Lets curl rewind an upload (it does after a redirect or a 100-continue
// refusal, or when a reused connection turned out dead).
int SeekInSpan(void *userdata, curl_off_t offset, int origin) {
  auto *st = static_cast<UploadState *>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > st->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  st->pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct Request {
  const char *method = "GET";  // GET, HEAD, PUT, DELETE
  std::string url;
  ByteSpan body;  // PUT only
  std::string payload_sha256 = std::string(kEmptySha256);
  std::vector<std::string> headers;  // "Name: value", each signed by curl
};

struct Response {
  long status = 0;
  Buffer body;
  int64_t content_length = -1;  // HEAD: the object's size
  int64_t last_modified = -1;   // seconds since the epoch, -1 if unknown
};

}  // namespace

struct S3Backend::Impl {
  S3Options opts;
  std::string bucket;
  std::string prefix;      // no leading or trailing '/'; may be ""
  std::string bucket_url;  // ".../bucket" (path-style) or "https://bucket.host"
  std::string endpoint;    // for messages
  std::string userpwd;     // "AK:SK"
  std::string sigv4;       // "aws:amz:REGION:s3"

  std::mutex pool_mu;
  std::vector<CURL *> pool;  // GUARDED_BY(pool_mu): idle handles

  ~Impl() {
    for (CURL *h : pool) curl_easy_cleanup(h);
  }

  std::string Describe() const {
    return prefix.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + prefix;
  }
  std::string ObjectName(std::string_view key) const {
    return prefix.empty() ? std::string(key) : prefix + "/" + std::string(key);
  }
  std::string ObjectUrl(std::string_view key) const {
    return bucket_url + "/" + UriEncode(ObjectName(key), /*keep_slash=*/true);
  }

  CURL *Acquire() {
    {
      std::lock_guard lock(pool_mu);
      if (!pool.empty()) {
        CURL *h = pool.back();
        pool.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL *h) {
    // reset keeps the handle's open connections and caches.
    curl_easy_reset(h);
    std::lock_guard lock(pool_mu);
    if (pool.size() < kMaxIdleHandles) {
      pool.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  Result<Response> Perform(const Request &req);
  Status HttpError(const Response &r, std::string_view what) const;
  Result<Response> ListPage(const std::string &full_prefix, const std::string &token, int max_keys);
};

Result<Response> S3Backend::Impl::Perform(const Request &req) {
  CURL *h = Acquire();
  if (h == nullptr) return ResourceExhaustedError("curl_easy_init failed");
  Response resp;
  UploadState upload{req.body, 0};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist *headers = nullptr;
  // curl 7.88 does not add x-amz-content-sha256 itself, and RGW/AWS need it
  // on every request. Never add an empty header: curl would sign it without
  // sending it.
  std::vector<std::string> lines = req.headers;
  lines.push_back("x-amz-content-sha256: " + req.payload_sha256);
  if (!opts.credentials.session_token.empty()) {
    lines.push_back("x-amz-security-token: " + opts.credentials.session_token);
  }
  for (const std::string &line : lines) headers = curl_slist_append(headers, line.c_str());

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(opts.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, opts.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opts.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteToBuffer);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, static_cast<void *>(&resp.body));
  curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
  if (!opts.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opts.ca_bundle.c_str());
  const std::string_view method = req.method;
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadFromSpan);
    curl_easy_setopt(h, CURLOPT_READDATA, static_cast<void *>(&upload));
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, SeekInSpan);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, static_cast<void *>(&upload));
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
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
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char *>(nullptr));
  Release(h);
  if (rc == CURLE_OK) return resp;

  std::string msg = fmt::format("{} {}: {}", req.method, req.url,
                                errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_URL_MALFORMAT:
      return InvalidArgumentError(msg);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(msg +
                                     " (the server's TLS certificate is not trusted: set "
                                     "AWS_CA_BUNDLE to its CA file)");
    case CURLE_OUT_OF_MEMORY:
      return ResourceExhaustedError(msg);
    default:
      // Refused or reset connections, timeouts, DNS failures, short or
      // garbled replies (CURLE_UNSUPPORTED_PROTOCOL is "Received HTTP/0.9"):
      // all worth another try. The scheme itself was checked in Open.
      return UnavailableError(msg);
  }
}

Status S3Backend::Impl::HttpError(const Response &r, std::string_view what) const {
  S3Error e = ParseS3Error(AsStringView(r.body));
  std::string detail = fmt::format("HTTP {}", r.status);
  if (!e.code.empty()) detail += " " + e.code;
  if (!e.message.empty()) detail += ": " + e.message;
  if (e.code == "NoSuchBucket") {
    return NotFoundError(fmt::format("bucket {} does not exist at {}", bucket, endpoint));
  }
  if (r.status == 403) {
    return PermissionDeniedError(
        fmt::format("access denied by {} for key {}: check the credentials and "
                    "bucket policy ({}; {})",
                    Describe(), opts.credentials.access_key_id, what, detail));
  }
  if (r.status == 404) return NotFoundError(fmt::format("{}: no such object ({})", what, detail));
  if (r.status == 301 || e.code == "PermanentRedirect" ||
      e.code == "AuthorizationHeaderMalformed" || e.code == "IllegalLocationConstraintException") {
    std::string where = XmlFirst(AsStringView(r.body), "Region").value_or("");
    return FailedPreconditionError(
        fmt::format("bucket {} is not in region {}{}: set AWS_REGION ({}; {})", bucket, opts.region,
                    where.empty() ? "" : " but in " + where, what, detail));
  }
  if (r.status == 408 || r.status == 429 || r.status >= 500 || e.code == "RequestTimeout" ||
      e.code == "SlowDown" || e.code == "OperationAborted") {
    return UnavailableError(fmt::format("{}: {}", what, detail));
  }
  if (r.status == 400) return InvalidArgumentError(fmt::format("{}: {}", what, detail));
  if (r.status == 412) return FailedPreconditionError(fmt::format("{}: {}", what, detail));
  return IoError(fmt::format("{}: unexpected reply {}", what, detail));
}

Result<Response> S3Backend::Impl::ListPage(const std::string &full_prefix, const std::string &token,
                                           int max_keys) {
  // Query parameters sorted by name and encoded: curl signs them verbatim.
  std::string query;
  if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
  query += fmt::format("list-type=2&max-keys={}", max_keys);
  query += "&prefix=" + UriEncode(full_prefix, false);
  Request req;
  req.url = bucket_url + "/?" + query;
  ASSIGN_OR_RETURN(Response r, Perform(req));
  if (r.status != 200) {
    return HttpError(r, fmt::format("listing s3://{}/{}", bucket, full_prefix));
  }
  return r;
}

Result<S3Options> S3Options::FromEnvironment() {
  S3Options o;
  o.endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (o.endpoint.empty()) o.endpoint = Env("AWS_ENDPOINT_URL");
  std::string region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  if (!region.empty()) o.region = region;
  std::string path_style = Env("CAIRN_S3_PATH_STYLE");
  if (!path_style.empty()) {
    if (path_style != "0" && path_style != "1") {
      return InvalidArgumentError(
          "CAIRN_S3_PATH_STYLE must be 1 (path-style) or 0 (virtual-hosted)");
    }
    o.path_style = path_style == "1";
  }
  o.ca_bundle = Env("AWS_CA_BUNDLE");
  ASSIGN_OR_RETURN(o.credentials, LoadS3Credentials());
  return o;
}

S3Backend::S3Backend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Backend::~S3Backend() = default;

Result<std::unique_ptr<S3Backend>> S3Backend::Open(std::string_view url, S3Options options) {
  InitCurlOnce();
  if (!url.starts_with("s3://")) {
    return InvalidArgumentError(fmt::format("'{}' is not an s3://bucket/prefix URL", url));
  }
  std::string_view rest = url.substr(5);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (bucket.size() < 3 || bucket.size() > 63 ||
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") != std::string::npos) {
    return InvalidArgumentError(
        fmt::format("'{}': the bucket name must be 3 to 63 lower-case letters, "
                    "digits, '.', '-' or '_'",
                    url));
  }
  if (!prefix.empty() && !ValidateKey(prefix).ok()) {
    return InvalidArgumentError(
        fmt::format("'{}': the prefix after the bucket must be a relative path "
                    "without empty, '.' or '..' "
                    "segments",
                    url));
  }
  auto impl = std::make_unique<Impl>();
  impl->bucket = std::move(bucket);
  impl->prefix = std::move(prefix);
  std::string endpoint = options.endpoint;
  bool path_style = options.path_style.value_or(!endpoint.empty());
  if (endpoint.empty()) endpoint = "https://s3." + options.region + ".amazonaws.com";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  std::string_view scheme =
      scheme_end == std::string::npos ? "" : std::string_view(endpoint).substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError(
        fmt::format("S3 endpoint '{}' must start with http:// or https://", options.endpoint));
  }
  impl->endpoint = endpoint;
  if (path_style) {
    impl->bucket_url = endpoint + "/" + impl->bucket;
  } else {
    impl->bucket_url =
        endpoint.substr(0, scheme_end + 3) + impl->bucket + "." + endpoint.substr(scheme_end + 3);
  }
  impl->userpwd = options.credentials.access_key_id + ":" + options.credentials.secret_access_key;
  impl->sigv4 = "aws:amz:" + options.region + ":s3";
  impl->opts = std::move(options);
  return std::unique_ptr<S3Backend>(new S3Backend(std::move(impl)));
}

std::string S3Backend::Describe() const { return impl_->Describe(); }

Status S3Backend::CheckBucket() {
  std::string full = impl_->prefix.empty() ? "" : impl_->prefix + "/";
  auto page = impl_->ListPage(full, "", 1);
  return page.status();
}

Status S3Backend::CreateBucket() {
  Request req;
  req.method = "PUT";
  req.url = impl_->bucket_url;
  std::string body;
  if (impl_->opts.region != "us-east-1") {
    body = fmt::format(
        "<CreateBucketConfiguration "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>{}</LocationConstraint></"
        "CreateBucketConfiguration>",
        impl_->opts.region);
  }
  req.body = AsBytes(body);
  req.payload_sha256 = HexEncode(Sha256(req.body));
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status == 200) return Status::OK();
  if (ParseS3Error(AsStringView(r.body)).code == "BucketAlreadyOwnedByYou") return Status::OK();
  return impl_->HttpError(r, "creating bucket " + impl_->bucket);
}

Status S3Backend::Put(std::string_view key, ByteSpan data) {
  RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "PUT";
  req.url = impl_->ObjectUrl(key);
  req.body = data;
  // The server recomputes the hash and refuses a body that does not match
  // (400 XAmzContentSHA256Mismatch), so nothing corrupted on the way lands.
  req.payload_sha256 = HexEncode(Sha256(data));
  req.headers.push_back("Content-Type: application/octet-stream");
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status == 200) return Status::OK();
  return impl_->HttpError(r, fmt::format("writing {}/{}", impl_->Describe(), key));
}

Result<Buffer> S3Backend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.url = impl_->ObjectUrl(key);
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status == 200) return std::move(r.body);
  return impl_->HttpError(r, fmt::format("reading {}/{}", impl_->Describe(), key));
}

Result<Buffer> S3Backend::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    // No byte range is empty in HTTP; only the object's existence matters.
    RETURN_IF_ERROR(Stat(key).status());
    return Buffer();
  }
  Request req;
  req.url = impl_->ObjectUrl(key);
  if (length - 1 > UINT64_MAX - offset) {
    req.headers.push_back(fmt::format("Range: bytes={}-", offset));
  } else {
    req.headers.push_back(fmt::format("Range: bytes={}-{}", offset, offset + length - 1));
  }
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status == 206) {
    if (r.body.size() > length) r.body.resize(length);
    return std::move(r.body);
  }
  if (r.status == 200) {  // the server ignored Range: cut the part out
    Buffer out;
    if (offset < r.body.size()) {
      auto first = r.body.begin() + static_cast<ptrdiff_t>(offset);
      auto last =
          first + static_cast<ptrdiff_t>(std::min<uint64_t>(length, r.body.size() - offset));
      out.assign(first, last);
    }
    return out;
  }
  if (r.status == 416) return Buffer();  // starts at or after the end
  return impl_->HttpError(
      r, fmt::format("reading {}/{} bytes {}+{}", impl_->Describe(), key, offset, length));
}

Result<ObjectInfo> S3Backend::Stat(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "HEAD";
  req.url = impl_->ObjectUrl(key);
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status != 200) {
    return impl_->HttpError(r, fmt::format("stat {}/{}", impl_->Describe(), key));
  }
  if (r.content_length < 0) {
    return IoError(fmt::format("stat {}/{}: reply has no Content-Length", impl_->Describe(), key));
  }
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(r.content_length);
  if (r.last_modified >= 0) {
    info.modified = std::chrono::system_clock::from_time_t(static_cast<time_t>(r.last_modified));
  }
  return info;
}

Status S3Backend::List(std::string_view prefix,
                       const std::function<Status(const ObjectInfo &)> &fn) {
  const std::string base = impl_->prefix.empty() ? "" : impl_->prefix + "/";
  const std::string full = base + std::string(prefix);
  std::string token;
  do {
    ASSIGN_OR_RETURN(Response r, impl_->ListPage(full, token, kListPageKeys));
    ASSIGN_OR_RETURN_CTX(S3ListPage page, ParseListObjectsV2(AsStringView(r.body)),
                         "listing " + impl_->Describe());
    for (ObjectInfo &info : page.objects) {
      if (!info.key.starts_with(base) || info.key.size() == base.size()) continue;
      info.key.erase(0, base.size());
      RETURN_IF_ERROR(fn(info));
    }
    token = page.truncated ? page.next_token : "";
  } while (!token.empty());
  return Status::OK();
}

Status S3Backend::Remove(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "DELETE";
  req.url = impl_->ObjectUrl(key);
  ASSIGN_OR_RETURN(Response r, impl_->Perform(req));
  if (r.status == 200 || r.status == 204) return Status::OK();
  if (r.status == 404 && ParseS3Error(AsStringView(r.body)).code != "NoSuchBucket") {
    return Status::OK();
  }
  return impl_->HttpError(r, fmt::format("removing {}/{}", impl_->Describe(), key));
}

}  // namespace cairn::storage
