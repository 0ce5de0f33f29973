#include "storage/open.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace cairn::storage {
namespace {

TEST(OpenBackendTest, DispatchesOnScheme) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-open-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  auto plain = OpenBackend(dir, /*create=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)->Describe(), dir);
  auto file_url = OpenBackend("file://" + dir + "/new", /*create=*/true);
  ASSERT_TRUE(file_url.ok()) << file_url.status().ToString();
  EXPECT_EQ((*file_url)->Describe(), dir + "/new");
  EXPECT_EQ(OpenBackend(dir + "/other", false).status().code(), StatusCode::kNotFound);
  // s3:// goes to S3Backend: "b" is too short a bucket name (or, without
  // credentials in the environment, those are missing) - a usage error either way.
  EXPECT_EQ(OpenBackend("s3://b/p", true).status().code(), StatusCode::kInvalidArgument);
  auto http = OpenBackend("http://host/x", true);
  EXPECT_EQ(http.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(http.status().message(),
            "unsupported repository URL 'http://host/x': use a local path, file:///path or "
            "s3://bucket/prefix");
  EXPECT_EQ(OpenBackend("file://relative", true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackend("", true).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::storage
