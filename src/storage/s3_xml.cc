#include "storage/s3_xml.h"

#include <fmt/format.h>
#include <time.h>

#include <charconv>
#include <string>

namespace cairn::storage {
namespace {

void AppendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

template <typename T>
bool ParseNumber(std::string_view text, T &out, int base = 10) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\n' && c != '\r') {
      pos = after;  // a longer tag name, e.g. <KeyCount> for <Key
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <Tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

Result<std::string> XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      return CorruptionError(fmt::format("malformed XML entity in '{}'", text));
    }
    std::string_view ent = text.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (ent.starts_with('#')) {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      if (!ParseNumber(ent.substr(hex ? 2 : 1), cp, hex ? 16 : 10) || cp > 0x10FFFF) {
        return CorruptionError(fmt::format("malformed XML entity &{}; in '{}'", ent, text));
      }
      AppendUtf8(out, cp);
    } else {
      return CorruptionError(fmt::format("unknown XML entity &{}; in '{}'", ent, text));
    }
    i = semi;
  }
  return out;
}

std::optional<std::string> XmlFirst(std::string_view xml, std::string_view tag) {
  auto all = XmlElements(xml, tag);
  if (all.empty()) return std::nullopt;
  auto text = XmlUnescape(all.front());
  if (!text.ok()) return std::string(all.front());
  return *std::move(text);
}

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20) return std::nullopt;
  struct tm tm = {};
  int year, mon, day, hour, min, sec;
  if (!ParseNumber(text.substr(0, 4), year) || text[4] != '-' ||
      !ParseNumber(text.substr(5, 2), mon) || text[7] != '-' ||
      !ParseNumber(text.substr(8, 2), day) || text[10] != 'T' ||
      !ParseNumber(text.substr(11, 2), hour) || text[13] != ':' ||
      !ParseNumber(text.substr(14, 2), min) || text[16] != ':' ||
      !ParseNumber(text.substr(17, 2), sec) || text.back() != 'Z') {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(t);
  std::string_view frac = text.substr(19, text.size() - 20);
  if (frac.size() > 1 && frac[0] == '.') {
    std::string digits(frac.substr(1, 6));
    digits.resize(6, '0');
    uint32_t us = 0;
    if (ParseNumber(digits, us)) tp += std::chrono::microseconds(us);
  }
  return tp;
}

Result<S3ListPage> ParseListObjectsV2(std::string_view xml) {
  S3ListPage page;
  if (XmlElements(xml, "ListBucketResult").empty()) {
    return CorruptionError("S3 listing reply is not a ListBucketResult");
  }
  for (std::string_view contents : XmlElements(xml, "Contents")) {
    auto keys = XmlElements(contents, "Key");
    if (keys.empty()) return CorruptionError("S3 listing: <Contents> without <Key>");
    ObjectInfo info;
    ASSIGN_OR_RETURN(info.key, XmlUnescape(keys.front()));
    auto sizes = XmlElements(contents, "Size");
    if (sizes.empty() || !ParseNumber(sizes.front(), info.size)) {
      return CorruptionError(fmt::format("S3 listing: bad <Size> for key {}", info.key));
    }
    auto modified = XmlElements(contents, "LastModified");
    if (!modified.empty()) {
      if (auto tp = ParseIso8601(modified.front())) info.modified = *tp;
    }
    page.objects.push_back(std::move(info));
  }
  page.truncated = XmlFirst(xml, "IsTruncated").value_or("false") == "true";
  if (page.truncated) {
    page.next_token = XmlFirst(xml, "NextContinuationToken").value_or("");
    if (page.next_token.empty()) {
      return CorruptionError("S3 listing is truncated but has no NextContinuationToken");
    }
  }
  return page;
}

S3Error ParseS3Error(std::string_view xml) {
  return S3Error{XmlFirst(xml, "Code").value_or(""), XmlFirst(xml, "Message").value_or("")};
}

}  // namespace cairn::storage
