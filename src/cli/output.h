// Formatting helpers shared by commands: aligned tables and human numbers
// for text output, JSON objects for `--output json`.
//
// Thread-safety: plain functions.
#ifndef CAIRN_CLI_OUTPUT_H_
#define CAIRN_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/manifest.h"

namespace cairn::cli {

// Columns separated by two spaces and left-aligned, a header row, a row of
// dashes, then `rows`; each line ends in '\n' without trailing blanks. Width
// counts UTF-8 code points. Short rows are padded with empty cells.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// Number of UTF-8 code points in `text`.
size_t DisplayWidth(std::string_view text);

// "3.2 s", "0.04 s", "2 min 5 s".
std::string FormatSeconds(double seconds);

// "1.2 GiB/s" (bytes / seconds; "-" when seconds is 0).
std::string FormatRate(uint64_t bytes, double seconds);

// The JSON form of a snapshot header used by list, show and create:
// {"id","state","source","host","size","block_size","block_count",
//  "created","completed","description","tags","parent","stats":{...}}.
nlohmann::json SnapshotHeaderJson(const repo::SnapshotHeader& header);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_OUTPUT_H_
