// cairn repo stats
//
// Totals of the repository. dedup_ratio = logical_bytes / unique_raw_bytes
// (how many times, on average, each stored block's bytes are used by the
// snapshots, zero blocks included); compression_ratio = unique_raw_bytes /
// stored_bytes; logical_bytes / stored_bytes is both together.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "core/units.h"
#include "repo/check.h"

namespace cairn::cli {
namespace {

double Ratio(uint64_t a, uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

std::string FormatRatio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", r);
  return buf;
}

Status Run(Context& ctx) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::RepoStats s, repo::ComputeStats(*repository));
  const double dedup = Ratio(s.logical_bytes, s.unique_raw_bytes);
  const double compression = Ratio(s.unique_raw_bytes, s.stored_bytes);
  if (ctx.json()) {
    ctx.PrintJson({{"snapshots", s.snapshots},
                   {"packs", s.packs},
                   {"chunks", s.chunks},
                   {"stored_bytes", s.stored_bytes},
                   {"logical_bytes", s.logical_bytes},
                   {"unique_raw_bytes", s.unique_raw_bytes},
                   {"dedup_ratio", dedup},
                   {"compression_ratio", compression}});
    return Status::OK();
  }
  auto bytes = [](uint64_t b) {
    return FormatBytes(b) + " (" + std::to_string(b) + " bytes)";
  };
  std::string out;
  out += "repository:         " + repository->Describe() + "\n";
  out += "snapshots:          " + std::to_string(s.snapshots) + "\n";
  out += "packs:              " + std::to_string(s.packs) + "\n";
  out += "chunks:             " + std::to_string(s.chunks) + "\n";
  out += "logical size:       " + bytes(s.logical_bytes) + "\n";
  out += "unique data:        " + bytes(s.unique_raw_bytes) + "\n";
  out += "stored size:        " + bytes(s.stored_bytes) + "\n";
  out += "dedup ratio:        " + FormatRatio(dedup) + "\n";
  out += "compression ratio:  " + FormatRatio(compression) + "\n";
  ctx.Print(out);
  return Status::OK();
}

}  // namespace

void RegisterRepoStats(CLI::App& repo, Context& ctx) {
  CLI::App* cmd = repo.add_subcommand(
      "stats", "Snapshots, packs, chunks, stored and logical bytes, dedup ratio");
  cmd->callback([&ctx] { ctx.SetAction([&ctx] { return Run(ctx); }); });
}

}  // namespace cairn::cli
