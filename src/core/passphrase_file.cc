#include "core/passphrase_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace cairn {

Result<std::string> ReadPassphraseFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("cannot read password file " + path + ": " + std::strerror(errno));
  }
  std::string line;
  std::getline(in, line);
  if (in.bad()) return InvalidArgumentError("cannot read password file " + path);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace cairn
