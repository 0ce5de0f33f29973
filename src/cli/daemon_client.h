// Talking to `cairn serve` from the command line: the --api-socket flag,
// requests to the daemon's API (docs/api.md) and the volume table/detail
// texts shared by the `cairn volume …` commands.
//
// Thread-safety: main thread only (the flag value is process-wide).
#ifndef CAIRN_CLI_DAEMON_CLIENT_H_
#define CAIRN_CLI_DAEMON_CLIENT_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "service/api_client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cairn::cli {

// Adds the global `--api-socket PATH` flag (env CAIRN_API_SOCKET).
void AddDaemonFlags(CLI::App& app);
// The socket the daemon is reached at (service::ResolveApiSocket).
std::string ApiSocket();
// What --api-socket / CAIRN_API_SOCKET said; empty when neither is set.
const std::string& ApiSocketFlag();

// One API call; the parsed JSON body of a 2xx, or the daemon's error as a
// Status (or "daemon not running at …"). `timeout`: how long to wait for the
// answer (service::kApiTimeout, 300 s; `volume check` passes
// service::kApiLongTimeout).
Result<nlohmann::json> CallDaemon(const std::string& method, const std::string& path,
                                  const nlohmann::json& body = nullptr,
                                  std::chrono::seconds timeout = service::kApiTimeout);

// `path` made absolute against this process's working directory, for a
// path the daemon reads later (its own working directory differs); a URL
// ("s3://…") unchanged. kInvalidArgument naming `flag` if it cannot be.
Result<std::string> AbsoluteForDaemon(const std::string& path, const char* flag);

// "vol-" + anything: a SOURCE that names a daemon's volume.
bool LooksLikeVolumeId(std::string_view text);

// Text forms of a volume object of the API.
std::vector<std::string> VolumeTableHeader();
std::vector<std::string> VolumeTableRow(const nlohmann::json& volume);
std::string VolumeDetails(const nlohmann::json& volume);
// "hydrating 42.0% of 8.0 GiB, 8.0 MiB/s, eta 120 s", "hydrated", or "" for a
// volume not made from a snapshot.
std::string HydrationText(const nlohmann::json& volume);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_DAEMON_CLIENT_H_
