// S3 credentials: the access key pair (and optional session token) cairn signs
// S3 requests with, found the way the AWS CLI finds them:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the profile AWS_PROFILE (default "default") in the shared credentials
//      file AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials).
// No instance metadata, SSO or assume-role: those need an AWS SDK.
//
// Thread-safety: plain functions over values; they read the environment and
// a file, nothing else.
#ifndef CAIRN_STORAGE_S3_CREDENTIALS_H_
#define CAIRN_STORAGE_S3_CREDENTIALS_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn::storage {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" when none
  std::string source;         // for messages: "environment", "profile x in
                              // /root/.aws/credentials"
};

// Reads the credentials as described above. kInvalidArgument naming what to
// set when none are found or a pair is incomplete; kIoError if the file
// exists but cannot be read.
Result<S3Credentials> LoadS3Credentials();

// Parses the INI text of a shared credentials file and returns `profile`'s
// aws_access_key_id / aws_secret_access_key / aws_session_token. Sections
// are "[name]" (also "[profile name]"), lines "key = value", comments start
// with '#' or ';'. kNotFound if the profile or one of the two keys is absent.
Result<S3Credentials> ParseS3CredentialsFile(std::string_view text, std::string_view profile);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_S3_CREDENTIALS_H_
