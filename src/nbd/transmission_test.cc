// Transmission-phase commands and errors, from a raw client against a real
// server over FileDevices.
#include "nbd/transmission.h"

#include <set>
#include <thread>

#include "nbd/test_client.h"

namespace cairn::nbd {
namespace {

using testing::RawClient;
using testing::Reply;
using testing::ServerFixture;

Buffer Pattern(size_t n, uint8_t seed) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(uint8_t(seed * 31 + i));
  return b;
}

class TransmissionTest : public ServerFixture {
 protected:
  // Sends a request and reads its (single) reply.
  Reply Call(RawClient& c, uint16_t type, uint16_t flags, uint64_t offset, uint32_t length,
             ByteSpan payload = {}, size_t read_length = 0) {
    static uint64_t handle = 1000;
    uint64_t h = ++handle;
    Reply r;
    EXPECT_TRUE(c.Request(type, flags, h, offset, length, payload));
    EXPECT_TRUE(c.ReadReply(&r, read_length));
    EXPECT_EQ(r.handle, h);
    return r;
  }
  // Structured error chunks carry the error and a message.
  static std::string Message(const Reply& r) {
    if (!r.structured || r.payload.size() < 6) return "";
    uint16_t len = GetU16BE(ByteSpan(r.payload).subspan(4, 2));
    return std::string(AsStringView(ByteSpan(r.payload).subspan(6, len)));
  }
};

TEST_F(TransmissionTest, WriteThenReadSimpleAndStructured) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  Buffer data = Pattern(65536, 1);
  EXPECT_EQ(Call(*c, kCmdWrite, kCmdFlagFua, 12345, 65536, data).error, 0u);
  Reply r = Call(*c, kCmdRead, 0, 12345, 65536, {}, 65536);
  EXPECT_EQ(r.error, 0u);
  EXPECT_EQ(r.payload, data);

  auto s = NewClient();
  ASSERT_TRUE(s->Connect("disk", true));
  r = Call(*s, kCmdRead, kCmdFlagDf, 12345, 65536);
  ASSERT_TRUE(r.structured);
  EXPECT_EQ(r.type, kReplyTypeOffsetData);
  EXPECT_TRUE(r.flags & kReplyFlagDone);
  EXPECT_EQ(GetU64BE(r.payload), 12345u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), r.payload.begin() + 8));
  // What one connection wrote, the file holds.
  Buffer direct(65536);
  ASSERT_TRUE(disk_->Read(12345, direct).ok());
  EXPECT_EQ(direct, data);
}

TEST_F(TransmissionTest, OutOfRangeReadIsEinvalAndTheConnectionKeepsWorking) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  EXPECT_EQ(Call(*c, kCmdRead, 0, kSize - 512, 1024).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, 0, UINT64_MAX - 10, 512).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, 0, kSize - 512, 512, {}, 512).error, 0u);

  auto s = NewClient();
  ASSERT_TRUE(s->Connect("disk", true));
  Reply r = Call(*s, kCmdRead, 0, kSize, 1);
  EXPECT_EQ(r.type, kReplyTypeError);
  EXPECT_EQ(r.error, kEINVAL);
  EXPECT_NE(Message(r).find("beyond the end"), std::string::npos) << Message(r);
  EXPECT_EQ(Call(*s, kCmdRead, 0, 0, 4096).type, kReplyTypeOffsetData);
}

TEST_F(TransmissionTest, WriteBeyondTheEndIsEnospcAndItsPayloadIsSkipped) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  Buffer data = Pattern(4096, 2);
  EXPECT_EQ(Call(*c, kCmdWrite, 0, kSize - 1024, 4096, data).error, kENOSPC);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, 0, kSize, 4096).error, kENOSPC);
  EXPECT_EQ(Call(*c, kCmdTrim, 0, kSize, 4096).error, kEINVAL);
  // The 4096 payload bytes were consumed, not parsed as the next request.
  EXPECT_EQ(Call(*c, kCmdWrite, 0, 0, 4096, data).error, 0u);
}

TEST_F(TransmissionTest, TooLargeRequestsAreEinvalAndTheConnectionGoesOn) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", true));
  const uint32_t too_big = (32u << 20) + 4096;  // over the advertised maximum
  Reply r = Call(*c, kCmdRead, 0, 0, too_big);
  EXPECT_EQ(r.error, kEINVAL);
  EXPECT_NE(Message(r).find("maximum block size"), std::string::npos) << Message(r);
  Buffer big(too_big);
  r = Call(*c, kCmdWrite, 0, 0, too_big, big);
  EXPECT_EQ(r.error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, 0, 0, 4096).type, kReplyTypeOffsetData);
}

TEST_F(TransmissionTest, ReadOnlyExportRefusesWritesWithEperm) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("ro", false));
  Buffer data = Pattern(512, 3);
  EXPECT_EQ(Call(*c, kCmdWrite, 0, 0, 512, data).error, kEPERM);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, 0, 0, 512).error, kEPERM);
  EXPECT_EQ(Call(*c, kCmdRead, 0, 0, 512, {}, 512).error, 0u);
}

TEST_F(TransmissionTest, UnknownCommandsAndFlagsAreEinval) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  EXPECT_EQ(Call(*c, 42, 0, 0, 0).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, 0x100, 0, 512).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, kCmdFlagDf, 0, 512).error, kEINVAL);  // DF needs structured
  EXPECT_EQ(Call(*c, kCmdBlockStatus, 0, 0, 512).error, kEINVAL);    // no meta context
  EXPECT_EQ(Call(*c, kCmdFlush, 0, 0, 0).error, 0u);
}

TEST_F(TransmissionTest, UnalignedRequestsOnAMinimumBlockExportAreEinval) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("plain", false));
  Buffer data = Pattern(512, 4);
  EXPECT_EQ(Call(*c, kCmdWrite, 0, 100, 512, data).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdRead, 0, 512, 100).error, kEINVAL);
  EXPECT_EQ(Call(*c, kCmdWrite, 0, 512, 512, data).error, 0u);
}

TEST_F(TransmissionTest, BadRequestMagicClosesOnlyThatConnection) {
  auto good = NewClient();
  ASSERT_TRUE(good->Connect("disk", false));
  auto bad = NewClient();
  ASSERT_TRUE(bad->Connect("disk", false));
  ASSERT_TRUE(bad->Request(kCmdRead, 0, 1, 0, 512, {}, 0xdeadbeef));
  EXPECT_TRUE(bad->ServerClosed());
  EXPECT_EQ(Call(*good, kCmdRead, 0, 0, 512, {}, 512).error, 0u);
}

TEST_F(TransmissionTest, ManyRequestsInFlightAreAllAnswered) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  constexpr int kN = 200;
  constexpr uint32_t kLen = 32768;
  // Pipeline every write before reading any reply.
  std::thread writer([&] {
    for (int i = 0; i < kN; ++i) {
      ASSERT_TRUE(c->Request(kCmdWrite, i % 7 == 0 ? kCmdFlagFua : 0, 1 + i, uint64_t(i) * kLen,
                             kLen, Pattern(kLen, uint8_t(i))));
    }
  });
  std::set<uint64_t> seen;
  for (int i = 0; i < kN; ++i) {
    Reply r;
    ASSERT_TRUE(c->ReadReply(&r));
    EXPECT_EQ(r.error, 0u);
    EXPECT_TRUE(seen.insert(r.handle).second) << "handle answered twice: " << r.handle;
  }
  writer.join();
  EXPECT_EQ(seen.size(), size_t(kN));
  for (int i = 0; i < kN; i += 17) {
    Reply r = Call(*c, kCmdRead, 0, uint64_t(i) * kLen, kLen, {}, kLen);
    EXPECT_EQ(r.payload, Pattern(kLen, uint8_t(i))) << i;
  }
}

TEST_F(TransmissionTest, BlockStatusReportsHolesAndData) {
  ASSERT_TRUE(disk_->Write(4 << 20, Pattern(1 << 20, 5), false).ok());
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  ASSERT_TRUE(c->StructuredReply());
  std::vector<testing::OptionReply> replies;
  ASSERT_TRUE(c->SetMetaContext("disk", {"base:allocation"}, &replies));
  ASSERT_EQ(replies.front().type, kRepMetaContext);
  uint32_t id = GetU32BE(replies.front().data);
  std::vector<testing::OptionReply> infos;
  testing::OptionReply last;
  ASSERT_TRUE(c->InfoOrGo(kOptGo, "disk", &infos, &last));
  ASSERT_EQ(last.type, kRepAck);

  Reply r = Call(*c, kCmdBlockStatus, 0, 0, 8 << 20);
  ASSERT_EQ(r.type, kReplyTypeBlockStatus);
  ByteSpan p(r.payload);
  EXPECT_EQ(GetU32BE(p), id);
  std::vector<std::pair<uint32_t, uint32_t>> got;
  for (size_t off = 4; off + 8 <= p.size(); off += 8) {
    got.emplace_back(GetU32BE(p.subspan(off, 4)), GetU32BE(p.subspan(off + 4, 4)));
  }
  std::vector<std::pair<uint32_t, uint32_t>> want = {
      {4u << 20, kStateHole | kStateZero}, {1u << 20, 0}, {3u << 20, kStateHole | kStateZero}};
  EXPECT_EQ(got, want);

  r = Call(*c, kCmdBlockStatus, kCmdFlagReqOne, 4 << 20, 8 << 20);
  ASSERT_EQ(r.type, kReplyTypeBlockStatus);
  EXPECT_EQ(r.payload.size(), 12u);
  EXPECT_EQ(GetU32BE(ByteSpan(r.payload).subspan(4, 4)), 1u << 20);
}

TEST_F(TransmissionTest, TrimAndWriteZeroesReadBackAsZeros) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  Buffer data = Pattern(1 << 20, 6);
  ASSERT_EQ(Call(*c, kCmdWrite, 0, 0, 1 << 20, data).error, 0u);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, kCmdFlagFastZero, 0, 65536).error, 0u);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, kCmdFlagNoHole | kCmdFlagFua, 65536, 65536).error, 0u);
  Reply r = Call(*c, kCmdRead, 0, 0, 131072, {}, 131072);
  EXPECT_TRUE(IsAllZero(r.payload));
  EXPECT_EQ(Call(*c, kCmdTrim, 0, 131072, 65536).error, 0u);
}

TEST_F(TransmissionTest, FastZeroOnADeviceWithoutItIsEnotsupAndChangesNothing) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("plain", false));
  Buffer data = Pattern(4096, 7);
  ASSERT_EQ(Call(*c, kCmdWrite, 0, 0, 4096, data).error, 0u);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, kCmdFlagFastZero, 0, 4096).error, kENOTSUP);
  EXPECT_EQ(Call(*c, kCmdRead, 0, 0, 4096, {}, 4096).payload, data);
  EXPECT_EQ(Call(*c, kCmdWriteZeroes, 0, 0, 4096).error, 0u);  // without the flag it zeroes
}

TEST_F(TransmissionTest, DiscAnswersOutstandingRequestsThenCloses) {
  auto c = NewClient();
  ASSERT_TRUE(c->Connect("disk", false));
  Buffer data = Pattern(4096, 8);
  ASSERT_TRUE(c->Request(kCmdWrite, 0, 1, 0, 4096, data));
  ASSERT_TRUE(c->Request(kCmdFlush, 0, 2, 0, 0));
  ASSERT_TRUE(c->Request(kCmdDisc, 0, 3, 0, 0));
  std::set<uint64_t> handles;
  for (int i = 0; i < 2; ++i) {
    Reply r;
    ASSERT_TRUE(c->ReadReply(&r));
    handles.insert(r.handle);
  }
  EXPECT_EQ(handles, (std::set<uint64_t>{1, 2}));
  EXPECT_TRUE(c->ServerClosed());
}

TEST_F(TransmissionTest, StopEndsSessionsAndDisconnectEndsOneExport) {
  auto on_disk = NewClient();
  ASSERT_TRUE(on_disk->Connect("disk", false));
  auto on_plain = NewClient();
  ASSERT_TRUE(on_plain->Connect("plain", false));
  EXPECT_EQ(server_->Connections().size(), 2u);
  EXPECT_EQ(server_->Disconnect("disk"), 1u);
  EXPECT_TRUE(on_disk->ServerClosed());
  EXPECT_EQ(Call(*on_plain, kCmdFlush, 0, 0, 0).error, 0u);
  server_->Stop();
  EXPECT_TRUE(on_plain->ServerClosed());
  EXPECT_FALSE(NewClient()->connected());
  server_->Stop();  // idempotent
}

}  // namespace
}  // namespace cairn::nbd
