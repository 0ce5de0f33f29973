#include "storage/s3_backend.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <utility>

#include "core/encoding.h"
#include "core/units.h"
#include "storage/s3_client.h"
#include "storage/s3_multipart.h"
#include "storage/s3_xml.h"

namespace cairn::storage {
namespace {

constexpr int kListPageKeys = 1000;
constexpr std::chrono::milliseconds kCheckTimeout{10'000};

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// A size from the environment ("64M", "5MiB", "1048576"); `fallback` if unset.
Result<uint64_t> EnvSize(const char* name, uint64_t fallback) {
  std::string text = Env(name);
  if (text.empty()) return fallback;
  Result<uint64_t> size = ParseSize(text);
  if (!size.ok()) {
    return InvalidArgumentError(
        fmt::format("{}=\"{}\" is not a size (e.g. 64M, 5MiB, 1048576)", name, text));
  }
  return *size;
}

// The host of "scheme://host[:port][/...]".
std::string_view HostOf(std::string_view endpoint) {
  size_t start = endpoint.find("://");
  std::string_view rest = start == std::string_view::npos ? endpoint : endpoint.substr(start + 3);
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with('[')) return rest.substr(0, rest.find(']') + 1);  // [::1]:9000
  return rest.substr(0, rest.find(':'));
}

Result<S3Response> ListPage(S3Client& c, const std::string& full_prefix, const std::string& token,
                            int max_keys, std::chrono::milliseconds timeout = {}) {
  // Query parameters sorted by name and encoded: curl signs them verbatim.
  std::string query;
  if (!token.empty()) query += "continuation-token=" + S3UriEncode(token, false) + "&";
  query += fmt::format("list-type=2&max-keys={}", max_keys);
  query += "&prefix=" + S3UriEncode(full_prefix, false);
  S3Request req;
  req.url = c.bucket_url() + "/?" + query;
  req.what = fmt::format("listing s3://{}/{}", c.bucket(), full_prefix);
  req.timeout = timeout;
  ASSIGN_OR_RETURN(S3Response r, c.Perform(req));
  if (r.status != 200) return c.HttpError(r, req.what);
  return r;
}

}  // namespace

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
  ASSIGN_OR_RETURN(o.multipart_threshold,
                   EnvSize("CAIRN_S3_MULTIPART_THRESHOLD", o.multipart_threshold));
  ASSIGN_OR_RETURN(o.part_size, EnvSize("CAIRN_S3_PART_SIZE", o.part_size));
  if (o.part_size < kMinPartSize) {
    return InvalidArgumentError(fmt::format(
        "CAIRN_S3_PART_SIZE is {} bytes: S3 needs parts of at least 5 MiB", o.part_size));
  }
  ASSIGN_OR_RETURN(o.credentials, LoadS3Credentials());
  return o;
}

S3Backend::S3Backend(std::unique_ptr<S3Client> client, bool path_style)
    : client_(std::move(client)), path_style_(path_style) {}
S3Backend::~S3Backend() = default;

Result<std::unique_ptr<S3Backend>> S3Backend::Open(std::string_view url, S3Options options) {
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
        fmt::format("'{}': the prefix after the bucket must be a relative path without empty, "
                    "'.' or '..' segments",
                    url));
  }
  if (options.connections < 1) {
    return InvalidArgumentError(fmt::format(
        "--connections is {}: at least 1 request must be allowed in flight", options.connections));
  }
  if (options.part_size < S3Options::kMinPartSize) {
    return InvalidArgumentError("the S3 part size must be at least 5 MiB");
  }
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = "https://s3." + options.region + ".amazonaws.com";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  std::string_view scheme =
      scheme_end == std::string::npos ? "" : std::string_view(endpoint).substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError(
        fmt::format("S3 endpoint '{}' must start with http:// or https://", options.endpoint));
  }
  const std::string_view host = HostOf(endpoint);
  const bool aws = host == "amazonaws.com" || host.ends_with(".amazonaws.com");
  const bool path_style = options.path_style.value_or(!aws);
  std::string bucket_url;
  if (path_style) {
    bucket_url = endpoint + "/" + bucket;
  } else {
    bucket_url =
        endpoint.substr(0, scheme_end + 3) + bucket + "." + endpoint.substr(scheme_end + 3);
  }
  auto client = std::make_unique<S3Client>(std::move(options), std::move(bucket), std::move(prefix),
                                           endpoint, std::move(bucket_url));
  return std::unique_ptr<S3Backend>(new S3Backend(std::move(client), path_style));
}

std::string S3Backend::Describe() const { return client_->Describe(); }

Status S3Backend::CheckBucket() {
  std::string full = client_->prefix().empty() ? "" : client_->prefix() + "/";
  // A tiny request: a server that has not answered it in 10 s is not going
  // to, and the caller retries it only a few times (OpenBackend).
  return ListPage(*client_, full, "", 1, kCheckTimeout).status();
}

Status S3Backend::CreateBucket() {
  S3Request req;
  req.method = "PUT";
  req.url = client_->bucket_url();
  req.what = "creating bucket " + client_->bucket();
  std::string body;
  if (client_->options().region != "us-east-1") {
    body = fmt::format(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        client_->options().region);
  }
  req.body = AsBytes(body);
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
  if (r.status == 200) return Status::OK();
  if (ParseS3Error(AsStringView(r.body)).code == "BucketAlreadyOwnedByYou") return Status::OK();
  return client_->HttpError(r, req.what);
}

Status S3Backend::PutObject(std::string_view key, ByteSpan data, bool if_absent,
                            const Digest* sha256) {
  RETURN_IF_ERROR(ValidateKey(key));
  if (!if_absent && data.size() > client_->options().multipart_threshold &&
      data.size() > client_->options().part_size) {
    return PutMultipart(*client_, key, data);
  }
  S3Request req;
  req.method = "PUT";
  req.url = client_->ObjectUrl(key);
  req.body = data;
  if (sha256 != nullptr) req.body_sha256 = HexEncode(*sha256);
  req.what = fmt::format("writing {}/{}", Describe(), key);
  req.headers.push_back("Content-Type: application/octet-stream");
  if (if_absent) req.headers.push_back("If-None-Match: *");
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
  if (r.status == 200) return Status::OK();
  if (if_absent) {
    if (r.status == 412) {
      return AlreadyExistsError(fmt::format("{}: the object already exists", req.what));
    }
    if (r.status == 501) {
      return ConditionalPutUnsupported(
          fmt::format("{} at {} (HTTP 501 to If-None-Match)", Describe(), client_->endpoint()));
    }
  }
  return client_->HttpError(r, req.what);
}

Status S3Backend::Put(std::string_view key, ByteSpan data) {
  return PutObject(key, data, /*if_absent=*/false, nullptr);
}

Status S3Backend::PutWithSha256(std::string_view key, ByteSpan data, const Digest& sha256) {
  return PutObject(key, data, /*if_absent=*/false, &sha256);
}

Status S3Backend::PutIfAbsent(std::string_view key, ByteSpan data) {
  return PutObject(key, data, /*if_absent=*/true, nullptr);
}

Result<Buffer> S3Backend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  S3Request req;
  req.url = client_->ObjectUrl(key);
  req.what = fmt::format("reading {}/{}", Describe(), key);
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
  if (r.status == 200) return std::move(r.body);
  return client_->HttpError(r, req.what);
}

Result<Buffer> S3Backend::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    // No byte range is empty in HTTP; only the object's existence matters.
    RETURN_IF_ERROR(Stat(key).status());
    return Buffer();
  }
  S3Request req;
  req.url = client_->ObjectUrl(key);
  req.what = fmt::format("reading {}/{} bytes {}+{}", Describe(), key, offset, length);
  if (length - 1 > UINT64_MAX - offset) {
    req.headers.push_back(fmt::format("Range: bytes={}-", offset));
  } else {
    req.headers.push_back(fmt::format("Range: bytes={}-{}", offset, offset + length - 1));
  }
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
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
  return client_->HttpError(r, req.what);
}

Result<ObjectInfo> S3Backend::Stat(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  S3Request req;
  req.method = "HEAD";
  req.url = client_->ObjectUrl(key);
  req.what = fmt::format("stat {}/{}", Describe(), key);
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
  if (r.status != 200) return client_->HttpError(r, req.what);
  if (r.content_length < 0) return IoError(req.what + ": reply has no Content-Length");
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(r.content_length);
  if (r.last_modified >= 0) {
    info.modified = std::chrono::system_clock::from_time_t(static_cast<time_t>(r.last_modified));
  }
  return info;
}

Status S3Backend::List(std::string_view prefix,
                       const std::function<Status(const ObjectInfo&)>& fn) {
  const std::string base = client_->prefix().empty() ? "" : client_->prefix() + "/";
  const std::string full = base + std::string(prefix);
  std::string token;
  do {
    ASSIGN_OR_RETURN(S3Response r, ListPage(*client_, full, token, kListPageKeys));
    ASSIGN_OR_RETURN_CTX(S3ListPage page, ParseListObjectsV2(AsStringView(r.body)),
                         "listing " + Describe());
    for (ObjectInfo& info : page.objects) {
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
  S3Request req;
  req.method = "DELETE";
  req.url = client_->ObjectUrl(key);
  req.what = fmt::format("removing {}/{}", Describe(), key);
  ASSIGN_OR_RETURN(S3Response r, client_->Perform(req));
  if (r.status == 200 || r.status == 204) return Status::OK();
  if (r.status == 404 && ParseS3Error(AsStringView(r.body)).code != "NoSuchBucket") {
    return Status::OK();
  }
  return client_->HttpError(r, req.what);
}

}  // namespace cairn::storage
