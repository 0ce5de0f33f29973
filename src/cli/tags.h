// Parsing of `--tag K=V` flags.
#ifndef CAIRN_CLI_TAGS_H_
#define CAIRN_CLI_TAGS_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cairn::cli {

// "K=V" → {K, V}. The key is non-empty and holds no '=' or control
// character; the value may be empty and may hold '='. kInvalidArgument
// naming the text otherwise.
Result<std::pair<std::string, std::string>> ParseTag(std::string_view text);

// Several tags; a key given twice is kInvalidArgument.
Result<std::map<std::string, std::string>> ParseTags(
    const std::vector<std::string>& texts);

// True if every tag of `wanted` is in `tags` with the same value.
bool TagsMatch(const std::map<std::string, std::string>& tags,
               const std::map<std::string, std::string>& wanted);

// "k1=v1,k2=v2" for tables.
std::string FormatTags(const std::map<std::string, std::string>& tags);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_TAGS_H_
