#include "service/api_client.h"

#include <fmt/format.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "service/api.h"
#include "service/http.h"

namespace cairn::service {

std::string DefaultDataDir() {
  const char* env = std::getenv("CAIRN_DATA_DIR");
  return env != nullptr && *env != '\0' ? env : "/var/lib/cairn";
}

std::string ResolveApiSocket(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("CAIRN_API_SOCKET");
  if (env != nullptr && *env != '\0') return env;
  return DefaultDataDir() + "/api.sock";
}

ApiClient::ApiClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

Result<std::string> ApiClient::Call(const std::string& method, const std::string& path,
                                    const std::string& body, std::chrono::seconds timeout) {
  HttpClient http(socket_path_, timeout);
  auto response = http.Send(method, path, body);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kUnavailable) {
      return UnavailableError(fmt::format(
          "daemon not running at {}: start it with `cairn serve --data-dir DIR --repo URL` (or "
          "point --api-socket / CAIRN_API_SOCKET at its socket)",
          socket_path_));
    }
    return response.status();
  }
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  const auto doc = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    const std::string code = e.value("code", "internal");
    const std::string message = e.value("message", "(no message)");
    return Status(StatusCodeFromApi(code), message);
  }
  return InternalError(fmt::format("daemon at {} answered {} {} with HTTP {}: {}", socket_path_,
                                   method, path, response->status, response->body.substr(0, 200)));
}

}  // namespace cairn::service
