#include "cli/daemon_client.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/units.h"
#include "service/api_client.h"

namespace cairn::cli {
namespace {

std::string& MutableApiSocketFlag() {
  static std::string flag;
  return flag;
}

std::string Str(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string Attachments(const nlohmann::json& volume) {
  std::string out;
  for (const auto& a : volume.value("attachments", nlohmann::json::array())) {
    if (!out.empty()) out += ", ";
    out += a.value("uri", "?");
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void AddDaemonFlags(CLI::App& app) {
  app.add_option("--api-socket", MutableApiSocketFlag(),
                 "The daemon's API socket (default: $CAIRN_DATA_DIR/api.sock, "
                 "/var/lib/cairn/api.sock)")
      ->envname("CAIRN_API_SOCKET");
}

std::string ApiSocket() { return service::ResolveApiSocket(ApiSocketFlag()); }

const std::string& ApiSocketFlag() { return MutableApiSocketFlag(); }

Result<nlohmann::json> CallDaemon(const std::string& method, const std::string& path,
                                  const nlohmann::json& body, std::chrono::seconds timeout) {
  service::ApiClient client(ApiSocket());
  ASSIGN_OR_RETURN(std::string text, client.Call(method, path,
                                                 body.is_null() ? std::string() : body.dump(),
                                                 timeout));
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InternalError("the daemon at " + client.socket_path() + " answered " + method + " " +
                         path + " with something that is not JSON");
  }
  return doc;
}

Result<std::string> AbsoluteForDaemon(const std::string& path, const char* flag) {
  if (path.find("://") != std::string::npos) return path;
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) {
    return InvalidArgumentError(std::string(flag) + " " + path +
                                ": cannot make it an absolute path: " + ec.message());
  }
  return abs.lexically_normal().string();
}

bool LooksLikeVolumeId(std::string_view text) { return text.starts_with("vol-"); }

std::string HydrationText(const nlohmann::json& v) {
  const nlohmann::json h = v.value("hydration", nlohmann::json());
  if (!h.is_object()) return "";
  const std::string state = h.value("state", "");
  if (state == "done") return "hydrated";
  const double percent = h.value("percent", 0.0);
  std::string out =
      fmt::format("{} {:.1f}% of {}", state, percent, FormatBytes(h.value("total", uint64_t{0})));
  if (state == "hydrating") {
    out += fmt::format(", {:.1f} MiB/s", h.value("rate", 0.0) / (1 << 20));
    const nlohmann::json eta = h.value("eta", nlohmann::json());
    if (eta.is_number()) out += fmt::format(", eta {:.0f} s", eta.get<double>());
    if (const uint64_t limit = h.value("rate_limit", uint64_t{0}); limit > 0) {
      out += fmt::format(" (limit {} MiB/s)", limit >> 20);
    }
  }
  if (!h.value("error", nlohmann::json()).is_null()) out += ": " + Str(h["error"]);
  return out;
}

std::vector<std::string> VolumeTableHeader() {
  return {"id", "size", "type", "state", "attachments", "created"};
}

std::vector<std::string> VolumeTableRow(const nlohmann::json& v) {
  return {v.value("id", "?"),
          FormatBytes(v.value("size", uint64_t{0})),
          v.value("volume_type", "?"),
          v.value("state", "?") + (HydrationText(v).empty() || HydrationText(v) == "hydrated"
                                       ? ""
                                       : " (" + HydrationText(v) + ")"),
          Attachments(v),
          v.value("created", "?")};
}

std::string VolumeDetails(const nlohmann::json& v) {
  std::string tags;
  const nlohmann::json tag_doc = v.value("tags", nlohmann::json::object());
  for (auto it = tag_doc.begin(); it != tag_doc.end(); ++it) {
    tags += (tags.empty() ? "" : ", ") + it.key() + "=" + Str(*it);
  }
  std::string pending;
  for (const auto& s : v.value("pending_snapshots", nlohmann::json::array())) {
    pending += (pending.empty() ? "" : ", ") + Str(s);
  }
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += std::string(key) + ":" + std::string(18 - key.size(), ' ') + value + "\n";
  };
  line("id", v.value("id", "?"));
  line("state", v.value("state", "?"));
  const uint64_t size = v.value("size", uint64_t{0});
  line("size", FormatBytes(size) + " (" + std::to_string(size) + " bytes)");
  line("type", v.value("limits", v.value("volume_type", "?")));
  line("encrypted", v.value("encrypted", false) ? "yes" : "no");
  line("created", v.value("created", "?"));
  line("attachments", Attachments(v));
  for (const auto& a : v.value("attachments", nlohmann::json::array())) {
    line("  attached", Str(a.value("attached", nlohmann::json())) + ", " +
                           std::to_string(a.value("connections", 0)) + " NBD connection(s)");
  }
  line("last snapshot", Str(v.value("last_snapshot", nlohmann::json())));
  if (!v.value("origin_snapshot", nlohmann::json()).is_null()) {
    line("origin snapshot", Str(v["origin_snapshot"]));
    line("hydration", HydrationText(v));
  }
  line("pending snapshots", pending.empty() ? "-" : pending);
  line("tags", tags.empty() ? "-" : tags);
  if (!v.value("error", nlohmann::json()).is_null()) line("error", Str(v["error"]));
  return out;
}

}  // namespace cairn::cli
