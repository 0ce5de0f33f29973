#include "cli/exit_codes.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

int Code(const Status& s) { return ExitCodeFor(s, ErrorPhase::kRunning); }

TEST(ExitCodesTest, MapsEachDocumentedCode) {
  EXPECT_EQ(Code(InvalidArgumentError("x")), 2);
  EXPECT_EQ(Code(UnauthenticatedError("x")), 4);
  EXPECT_EQ(Code(AbortedError("x")), 5);
  EXPECT_EQ(Code(CorruptionError("x")), 6);
  EXPECT_EQ(Code(NotFoundError("x")), 7);
  EXPECT_EQ(Code(FailedPreconditionError("x")), 8);
  EXPECT_EQ(Code(AlreadyExistsError("x")), 8);
  EXPECT_EQ(Code(ResourceExhaustedError("x")), 9);
  EXPECT_EQ(Code(CancelledError("x")), 130);
  EXPECT_EQ(Code(IoError("x")), 1);
  EXPECT_EQ(Code(PermissionDeniedError("x")), 1);
  EXPECT_EQ(Code(UnavailableError("x")), 1);
  EXPECT_EQ(Code(InternalError("x")), 1);
}

TEST(ExitCodesTest, NotFoundWhileOpeningIsRepositoryNotFound) {
  EXPECT_EQ(ExitCodeFor(NotFoundError("x"), ErrorPhase::kOpeningRepository), 3);
  // Other codes do not depend on the phase.
  EXPECT_EQ(ExitCodeFor(UnauthenticatedError("x"), ErrorPhase::kOpeningRepository), 4);
}

TEST(ExitCodesTest, ErrorJsonHasCodeMessageAndExitCode) {
  const std::string json = ErrorJson(CorruptionError("pack 3f: bad tag"), 6);
  EXPECT_NE(json.find("\"code\": \"corruption\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"message\": \"pack 3f: bad tag\""), std::string::npos);
  EXPECT_NE(json.find("\"exit_code\": 6"), std::string::npos);
  EXPECT_EQ(ErrorCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(ErrorCodeName(StatusCode::kIoError), "io_error");
}

}  // namespace
}  // namespace cairn::cli
