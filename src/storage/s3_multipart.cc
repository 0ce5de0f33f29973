#include "storage/s3_multipart.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "core/log.h"
#include "storage/s3_xml.h"

namespace cairn::storage {
namespace {

// The upload of one object in progress; Abort() unless Complete() succeeded.
class MultipartUpload {
 public:
  MultipartUpload(S3Client& client, std::string_view key)
      : c_(client),
        url_(client.ObjectUrl(key)),
        what_(fmt::format("writing {}/{} (multipart)", client.Describe(), key)) {}

  Status Create() {
    S3Request req;
    req.method = "POST";
    req.url = url_ + "?uploads=";  // value-less subresource: "=" (curl signs it verbatim)
    req.what = what_ + ": starting the upload";
    req.headers.push_back("Content-Type: application/octet-stream");
    ASSIGN_OR_RETURN(S3Response r, c_.Perform(req));
    if (r.status != 200) return c_.HttpError(r, req.what);
    std::optional<std::string> id = XmlFirst(AsStringView(r.body), "UploadId");
    if (!id || id->empty()) {
      return IoError(fmt::format("{}: the reply names no UploadId", req.what));
    }
    upload_id_ = std::move(*id);
    return Status::OK();
  }

  Status UploadPart(ByteSpan part) {
    const int number = static_cast<int>(etags_.size()) + 1;
    S3Request req;
    req.method = "PUT";
    // Sorted: partNumber before uploadId.
    req.url =
        fmt::format("{}?partNumber={}&uploadId={}", url_, number, S3UriEncode(upload_id_, false));
    req.body = part;
    req.what = fmt::format("{}: part {} ({} bytes)", what_, number, part.size());
    ASSIGN_OR_RETURN(S3Response r, c_.Perform(req));
    if (r.status != 200) return c_.HttpError(r, req.what);
    if (r.etag.empty()) return IoError(fmt::format("{}: the reply has no ETag", req.what));
    etags_.push_back(r.etag);
    return Status::OK();
  }

  Status Complete() {
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1,
                          XmlEscape(etags_[i]));
    }
    body += "</CompleteMultipartUpload>";
    S3Request req;
    req.method = "POST";
    req.url = url_ + "?uploadId=" + S3UriEncode(upload_id_, false);
    req.body = AsBytes(body);
    req.what = fmt::format("{}: completing the upload of {} parts", what_, etags_.size());
    req.headers.push_back("Content-Type: application/xml");
    ASSIGN_OR_RETURN(S3Response r, c_.Perform(req));
    // S3 may answer 200 and still fail: the error is then in the body.
    if (r.status != 200 || !ParseS3Error(AsStringView(r.body)).code.empty()) {
      if (r.status == 200) r.status = 500;
      return c_.HttpError(r, req.what);
    }
    completed_ = true;
    return Status::OK();
  }

  // Removes the parts stored so far; failures only warn (the bucket's
  // lifecycle rule for incomplete uploads is the backstop).
  void Abort() {
    if (upload_id_.empty() || completed_) return;
    S3Request req;
    req.method = "DELETE";
    req.url = url_ + "?uploadId=" + S3UriEncode(upload_id_, false);
    req.what = what_ + ": aborting the upload";
    Result<S3Response> r = c_.Perform(req);
    Status s = r.ok() ? (r->status == 204 || r->status == 200 || r->status == 404
                             ? Status::OK()
                             : c_.HttpError(*r, req.what))
                      : r.status();
    if (!s.ok()) {
      LogWarning(
          fmt::format("{} (upload id {}): {}; its parts stay until a lifecycle rule for "
                      "incomplete multipart uploads removes them",
                      req.what, upload_id_, s.ToString()));
    }
  }

 private:
  static std::string XmlEscape(std::string_view text) {
    std::string out;
    for (char ch : text) {
      switch (ch) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        default:
          out += ch;
      }
    }
    return out;
  }

  S3Client& c_;
  const std::string url_;
  const std::string what_;
  std::string upload_id_;
  std::vector<std::string> etags_;  // of parts 1..n
  bool completed_ = false;
};

}  // namespace

Status PutMultipart(S3Client& client, std::string_view key, ByteSpan data) {
  const uint64_t part_size = client.options().part_size;
  MultipartUpload upload(client, key);
  Status s = upload.Create();
  for (uint64_t off = 0; s.ok() && off < data.size(); off += part_size) {
    s = upload.UploadPart(data.subspan(off, std::min<uint64_t>(part_size, data.size() - off)));
  }
  if (s.ok()) s = upload.Complete();
  if (!s.ok()) upload.Abort();
  return s;
}

}  // namespace cairn::storage
