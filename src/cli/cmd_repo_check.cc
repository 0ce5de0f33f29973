// cairn repo check [--read-data | --read-data-subset N%]
//
// Verifies the repository and prints every finding. Exit 6 if any finding is
// an error; warnings alone exit 0.
#include <chrono>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "core/units.h"
#include "repo/check.h"

namespace cairn::cli {
namespace {

struct Options {
  bool read_data = false;
  std::string subset;  // "N%"
  size_t threads = 0;
};

// "10%" or "10" → 0.10. kInvalidArgument outside (0, 100].
Result<double> ParsePercent(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.back() == '%') s.pop_back();
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (s.empty() || used != s.size() || !(value > 0 && value <= 100)) {
    return InvalidArgumentError("bad --read-data-subset \"" + std::string(text) +
                                "\": expected a percentage in (0, 100], e.g. 10%");
  }
  return value / 100.0;
}

Status Run(Context& ctx, const Options& o) {
  repo::CheckOptions options;
  options.threads = o.threads;
  options.read_data = o.read_data || !o.subset.empty();
  if (!o.subset.empty()) {
    ASSIGN_OR_RETURN(options.read_data_share, ParsePercent(o.subset));
    // A different subset each day, so daily partial checks cover every pack.
    options.read_data_seed = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::hours>(
            std::chrono::system_clock::now().time_since_epoch()).count() / 24);
  }
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  // S3: as many pack reads in flight as connections.
  if (options.threads == 0) options.threads = ctx.io_parallelism(ctx.repo_url);
  ASSIGN_OR_RETURN(repo::CheckReport report,
                   repo::CheckRepository(*repository, options));
  size_t errors = 0;
  for (const auto& f : report.findings) {
    if (f.severity == repo::CheckFinding::Severity::kError) ++errors;
  }
  const size_t warnings = report.findings.size() - errors;
  if (ctx.json()) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : report.findings) {
      findings.push_back(
          {{"severity", f.severity == repo::CheckFinding::Severity::kError ? "error" : "warning"},
           {"object", f.object},
           {"message", f.message}});
    }
    ctx.PrintJson({{"ok", report.ok()},
                   {"errors", errors},
                   {"warnings", warnings},
                   {"findings", findings},
                   {"snapshots_checked", report.snapshots_checked},
                   {"binned_checked", report.binned_checked},
                   {"packs_checked", report.packs_checked},
                   {"packs_read", report.packs_read},
                   {"chunks_verified", report.chunks_verified},
                   {"bytes_read", report.bytes_read},
                   {"retries", ctx.retries()}});
  } else {
    std::string out;
    for (const auto& f : report.findings) {
      out += f.severity == repo::CheckFinding::Severity::kError ? "error: " : "warning: ";
      out += (f.object.empty() ? "" : f.object + ": ") + f.message + "\n";
    }
    out += "checked " + std::to_string(report.snapshots_checked) + " snapshots, " +
           (report.binned_checked > 0
                ? std::to_string(report.binned_checked) + " in the recycle bin, "
                : std::string()) +
           std::to_string(report.packs_checked) + " packs";
    if (options.read_data) {
      out += "; read " + std::to_string(report.packs_read) + " packs (" +
             FormatBytes(report.bytes_read) + "), verified " +
             std::to_string(report.chunks_verified) + " chunks";
    }
    out += errors == 0 ? ": no errors" : ": " + std::to_string(errors) + " errors";
    if (warnings > 0) out += ", " + std::to_string(warnings) + " warnings";
    if (ctx.retries() > 0) out += "; retries: " + std::to_string(ctx.retries());
    ctx.Print(out + "\n");
  }
  if (errors > 0) {
    return CorruptionError("repository check found " + std::to_string(errors) +
                           " errors");
  }
  return Status::OK();
}

}  // namespace

void RegisterRepoCheck(CLI::App& repo, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = repo.add_subcommand(
      "check", "Verify the repository structure (and with --read-data, all data)");
  auto* read = cmd->add_flag("--read-data", o->read_data,
                             "Read every pack and re-hash every chunk");
  cmd->add_option("--read-data-subset", o->subset,
                  "Read only this share of the packs, e.g. 10%")
      ->excludes(read);
  cmd->add_option("--threads", o->threads, "Worker threads (default: cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
