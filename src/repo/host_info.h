// Who and where this process runs, for key files and locks. Internal to repo/.
#ifndef CAIRN_REPO_HOST_INFO_H_
#define CAIRN_REPO_HOST_INFO_H_

#include <string>

namespace cairn::repo {

std::string Hostname();  // gethostname(2), "unknown" if it fails
std::string UserName();  // $USER, else the passwd entry, else the uid

}  // namespace cairn::repo

#endif  // CAIRN_REPO_HOST_INFO_H_
