#include "nbd/errors.h"

#include <gtest/gtest.h>

#include "nbd/protocol.h"

namespace cairn::nbd {
namespace {

TEST(ErrorsTest, StatusCodesMapToTheDocumentedNbdErrors) {
  EXPECT_EQ(ToNbdError(InvalidArgumentError("x")), kEINVAL);
  EXPECT_EQ(ToNbdError(PermissionDeniedError("x")), kEPERM);
  EXPECT_EQ(ToNbdError(ResourceExhaustedError("disk full")), kENOSPC);
  EXPECT_EQ(ToNbdError(CancelledError("stopping")), kESHUTDOWN);
  EXPECT_EQ(ToNbdError(CorruptionError("bad block")), kEIO);
  EXPECT_EQ(ToNbdError(IoError("x")), kEIO);
  EXPECT_EQ(ToNbdError(NotFoundError("x")), kEIO);
}

TEST(ErrorsTest, UnavailableIsEnotsupOnlyForFastZero) {
  EXPECT_EQ(ToNbdError(UnavailableError("no fast zero"), /*fast_zero_request=*/true), kENOTSUP);
  EXPECT_EQ(ToNbdError(UnavailableError("throttled"), /*fast_zero_request=*/false), kEIO);
}

TEST(ErrorsTest, NamesForMessages) {
  EXPECT_STREQ(NbdErrorName(kENOSPC), "ENOSPC");
  EXPECT_STREQ(NbdErrorName(12345), "unknown error");
}

}  // namespace
}  // namespace cairn::nbd
