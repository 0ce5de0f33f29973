#include "repo/host_info.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

namespace cairn::repo {

std::string Hostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "unknown";
  return std::string(buf.data());
}

std::string UserName() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return std::to_string(getuid());
}

}  // namespace cairn::repo
