#include "cli/tags.h"

namespace cairn::cli {

Result<std::pair<std::string, std::string>> ParseTag(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgumentError("bad tag \"" + std::string(text) +
                                "\": expected KEY=VALUE");
  }
  std::string key(text.substr(0, eq));
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("bad tag \"" + std::string(text) +
                                  "\": control character in key");
    }
  }
  return std::pair{std::move(key), std::string(text.substr(eq + 1))};
}

Result<std::map<std::string, std::string>> ParseTags(
    const std::vector<std::string>& texts) {
  std::map<std::string, std::string> tags;
  for (const std::string& text : texts) {
    ASSIGN_OR_RETURN(auto tag, ParseTag(text));
    if (!tags.emplace(tag.first, tag.second).second) {
      return InvalidArgumentError("tag \"" + tag.first + "\" given twice");
    }
  }
  return tags;
}

bool TagsMatch(const std::map<std::string, std::string>& tags,
               const std::map<std::string, std::string>& wanted) {
  for (const auto& [key, value] : wanted) {
    auto it = tags.find(key);
    if (it == tags.end() || it->second != value) return false;
  }
  return true;
}

std::string FormatTags(const std::map<std::string, std::string>& tags) {
  std::string out;
  for (const auto& [key, value] : tags) {
    if (!out.empty()) out += ',';
    out += key + '=' + value;
  }
  return out;
}

}  // namespace cairn::cli
