// Multipart upload of one object (internal to storage/, used by S3Backend
// for objects above S3Options::multipart_threshold):
//
//   POST key?uploads=            → UploadId
//   PUT  key?partNumber=N&uploadId=ID   for each part of part_size bytes,
//                                  one after another, each with Content-MD5
//                                  and x-amz-content-sha256 (the server
//                                  refuses a damaged part); the ETag kept
//   POST key?uploadId=ID         with the part list → the object appears
//                                  whole and at once, like a single PUT
//
// Any failure aborts the upload (DELETE key?uploadId=ID) so no parts are
// left stored, and is returned as is: RetryingBackend retries the whole Put
// (a new upload), S3Backend itself never retries. A 200 reply whose body is
// an <Error> (S3 does that for CompleteMultipartUpload) is an error too.
//
// Thread-safety: as S3Client; one call uploads one object.
#ifndef CAIRN_STORAGE_S3_MULTIPART_H_
#define CAIRN_STORAGE_S3_MULTIPART_H_

#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "storage/s3_client.h"

namespace cairn::storage {

// Uploads `data` as object `key` in parts of client.options().part_size.
// REQUIRES: part_size >= 5 MiB; data.size() > part_size.
Status PutMultipart(S3Client& client, std::string_view key, ByteSpan data);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_MULTIPART_H_
