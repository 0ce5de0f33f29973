#include "storage/s3_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace cairn::storage {
namespace {

constexpr std::string_view kFile = R"(# shared credentials
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key=secret/default+1

; another one
[profile backup]
aws_access_key_id   =   AKIABACKUP
aws_secret_access_key = s2
aws_session_token = tok
[broken]
aws_access_key_id = AKIAONLY
)";

TEST(S3CredentialsTest, ParsesProfiles) {
  auto d = ParseS3CredentialsFile(kFile, "default");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->secret_access_key, "secret/default+1");
  EXPECT_EQ(d->session_token, "");
  auto b = ParseS3CredentialsFile(kFile, "backup");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->access_key_id, "AKIABACKUP");
  EXPECT_EQ(b->secret_access_key, "s2");
  EXPECT_EQ(b->session_token, "tok");
  EXPECT_EQ(ParseS3CredentialsFile(kFile, "broken").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseS3CredentialsFile(kFile, "absent").status().code(), StatusCode::kNotFound);
}

TEST(S3CredentialsTest, EnvironmentFirstAndIncompletePairRejected) {
  setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "sk", 1);
  auto c = LoadS3Credentials();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->source, "environment");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(LoadS3Credentials().status().code(), StatusCode::kInvalidArgument);
  unsetenv("AWS_ACCESS_KEY_ID");
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  auto none = LoadS3Credentials();
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

}  // namespace
}  // namespace cairn::storage
