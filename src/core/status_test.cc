#include "core/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace cairn {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ToStringHasCodeNameAndMessage) {
  Status s = CorruptionError("pack 3f2a: offset 12: authentication failed");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "corruption: pack 3f2a: offset 12: authentication failed");
}

TEST(StatusTest, WithContextPrependsAndKeepsCode) {
  Status s = IoError("short read").WithContext("reading pack 3f2a");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "reading pack 3f2a: short read");
  EXPECT_TRUE(Status::OK().WithContext("anything").ok());
  EXPECT_EQ(Status::OK().WithContext("anything").message(), "");
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EDQUOT, "x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EACCES, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EPERM, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EROFS, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EEXIST, "x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoToStatus(EINTR, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EAGAIN, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EIO, "x").code(), StatusCode::kIoError);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "writing pack").message(),
            "writing pack: No space left on device");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().ok());
  Result<int> e = NotFoundError("snap-1");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.value_or(7), 7);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r = Status::OK();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

Status Fails() { return UnavailableError("busy"); }
Status Succeeds() { return Status::OK(); }
Result<std::string> Name(bool ok) {
  if (!ok) return NotFoundError("no name");
  return std::string("cairn");
}

Status UsesReturnIfError(bool fail, int* reached) {
  RETURN_IF_ERROR(Succeeds());
  *reached = 1;
  if (fail) RETURN_IF_ERROR(Fails());
  *reached = 2;
  return Status::OK();
}

TEST(MacroTest, ReturnIfError) {
  int reached = 0;
  EXPECT_TRUE(UsesReturnIfError(false, &reached).ok());
  EXPECT_EQ(reached, 2);
  reached = 0;
  Status s = UsesReturnIfError(true, &reached);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "busy");
  EXPECT_EQ(reached, 1);
}

Status UsesReturnIfErrorCtx() {
  RETURN_IF_ERROR_CTX(Fails(), std::string("locking repo"));
  return Status::OK();
}

TEST(MacroTest, ReturnIfErrorCtx) {
  Status s = UsesReturnIfErrorCtx();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "locking repo: busy");
}

Result<size_t> UsesAssign(bool ok) {
  ASSIGN_OR_RETURN(std::string name, Name(ok));
  ASSIGN_OR_RETURN(auto again, Name(true));  // two on one function
  return name.size() + again.size();
}

Result<size_t> UsesAssignCtx(bool ok) {
  ASSIGN_OR_RETURN_CTX(auto name, Name(ok), "reading config");
  return name.size();
}

TEST(MacroTest, AssignOrReturn) {
  Result<size_t> good = UsesAssign(true);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 10u);
  Result<size_t> bad = UsesAssign(false);
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.status().message(), "no name");
}

TEST(MacroTest, AssignOrReturnCtx) {
  EXPECT_EQ(*UsesAssignCtx(true), 5u);
  Result<size_t> bad = UsesAssignCtx(false);
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.status().message(), "reading config: no name");
}

}  // namespace
}  // namespace cairn
