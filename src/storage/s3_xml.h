// The few pieces of S3's XML replies cairn reads: ListObjectsV2 pages and
// <Error> bodies.
//
// Why no XML library: S3 replies are machine-written, flat, attribute-free
// documents whose elements of interest (<Key>, <Size>, <LastModified>,
// <IsTruncated>, <NextContinuationToken>, <Code>, <Message>) never nest in
// one another and never use CDATA. Finding "<Tag>" ... "</Tag>" and undoing
// the five predefined entities (plus numeric ones) reads them exactly; a
// full parser (libxml2, expat) would add a dependency, an adapter and an
// attack surface for no gain. Anything malformed is reported, not guessed.
//
// Thread-safety: pure functions.
#ifndef CAIRN_STORAGE_S3_XML_H_
#define CAIRN_STORAGE_S3_XML_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/backend.h"

namespace cairn::storage {

// Inner text of every <tag>...</tag> element (also <tag attr="...">), in
// document order, still escaped. "<Key>" never matches "<KeyCount>".
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);

// Unescaped inner text of the first <tag> element; nullopt if there is none.
std::optional<std::string> XmlFirst(std::string_view xml, std::string_view tag);

// Undoes &amp; &lt; &gt; &quot; &apos; &#N; &#xN;. kCorruption on a
// malformed entity.
Result<std::string> XmlUnescape(std::string_view text);

// "2024-05-01T12:34:56.789Z" (ISO 8601, UTC) as a time point.
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

struct S3ListPage {
  std::vector<ObjectInfo> objects;  // keys exactly as the server sent them
  bool truncated = false;
  std::string next_token;  // REQUIRED by S3 when truncated
};

// Parses one ListObjectsV2 reply. kCorruption naming the element when a
// <Contents> lacks <Key> or has a malformed <Size>, or a truncated page has
// no continuation token.
Result<S3ListPage> ParseListObjectsV2(std::string_view xml);

struct S3Error {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch"; "" if no body
  std::string message;  // may be ""
};

// The <Code> and <Message> of an S3 <Error> body; empty fields otherwise.
S3Error ParseS3Error(std::string_view xml);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_XML_H_
