// The handshake, driven byte by byte by a raw client against a real server.
#include "nbd/handshake.h"

#include "nbd/test_client.h"

namespace cairn::nbd {
namespace {

using testing::OptionReply;
using testing::RawClient;
using testing::ServerFixture;

class HandshakeTest : public ServerFixture {
 protected:
  // A second client that is in transmission on "disk" and can still read:
  // proves a bad connection leaves the others alone.
  void ExpectOtherClientWorks(RawClient& other) {
    ASSERT_TRUE(other.Request(kCmdRead, 0, 77, 0, 512));
    testing::Reply r;
    ASSERT_TRUE(other.ReadReply(&r, 512));
    EXPECT_EQ(r.handle, 77u);
    EXPECT_EQ(r.error, 0u);
  }
};

TEST_F(HandshakeTest, GreetingIsFixedNewstyleWithNoZeroes) {
  auto c = NewClient();
  ASSERT_TRUE(c->connected());
  EXPECT_EQ(c->ReadGreeting(), kFlagFixedNewstyle | kFlagNoZeroes);
}

TEST_F(HandshakeTest, NonFixedNewstyleClientIsDisconnected) {
  auto other = NewClient();
  ASSERT_TRUE(other->Connect("disk", false));
  auto c = NewClient();
  ASSERT_GE(c->ReadGreeting(), 0);
  ASSERT_TRUE(c->SendClientFlags(0));  // plain newstyle
  EXPECT_TRUE(c->ServerClosed());
  ExpectOtherClientWorks(*other);
}

TEST_F(HandshakeTest, UnknownClientFlagsAreDisconnected) {
  auto c = NewClient();
  ASSERT_GE(c->ReadGreeting(), 0);
  ASSERT_TRUE(c->SendClientFlags(1 | 4));
  EXPECT_TRUE(c->ServerClosed());
}

TEST_F(HandshakeTest, TruncatedHandshakeLeavesServerServing) {
  auto other = NewClient();
  ASSERT_TRUE(other->Connect("disk", false));
  {
    auto c = NewClient();
    ASSERT_GE(c->ReadGreeting(), 0);
    std::byte half[2] = {};
    ASSERT_TRUE(c->Send(half));  // two of the four client-flag bytes, then gone
  }
  {
    auto c = NewClient();
    ASSERT_TRUE(c->Hello());
    Buffer partial;
    PutU64BE(partial, kOptMagic);
    PutU32BE(partial, kOptGo);
    PutU32BE(partial, 100);  // promises 100 bytes, sends 3
    partial.resize(partial.size() + 3);
    ASSERT_TRUE(c->Send(partial));
  }
  ExpectOtherClientWorks(*other);
  auto fresh = NewClient();
  EXPECT_TRUE(fresh->Connect("disk", true));
}

TEST_F(HandshakeTest, BadOptionMagicIsDisconnected) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  Buffer b;
  PutU64BE(b, 0x1122334455667788ull);
  PutU32BE(b, kOptGo);
  PutU32BE(b, 0);
  ASSERT_TRUE(c->Send(b));
  EXPECT_TRUE(c->ServerClosed());
}

TEST_F(HandshakeTest, UnknownOptionGetsErrUnsupThenGoWorks) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  Buffer junk = ToBuffer("some data the server must skip");
  ASSERT_TRUE(c->SendOption(0x4242, junk));
  OptionReply r;
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.option, 0x4242u);
  EXPECT_EQ(r.type, kRepErrUnsup);
  ASSERT_TRUE(c->SendOption(kOptStartTls));
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepErrUnsup);
  std::vector<OptionReply> infos;
  ASSERT_TRUE(c->InfoOrGo(kOptGo, "disk", &infos, &r));
  EXPECT_EQ(r.type, kRepAck);
  ASSERT_TRUE(c->Request(kCmdRead, 0, 1, 0, 4096));
  testing::Reply reply;
  ASSERT_TRUE(c->ReadReply(&reply, 4096));
  EXPECT_EQ(reply.error, 0u);
}

TEST_F(HandshakeTest, ListNamesEveryExportAndRejectsData) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  ASSERT_TRUE(c->SendOption(kOptList));
  std::vector<std::string> names;
  OptionReply r;
  while (c->ReadOptionReply(&r) && r.type == kRepServer) {
    uint32_t len = GetU32BE(r.data);
    names.emplace_back(AsStringView(ByteSpan(r.data).subspan(4, len)));
  }
  EXPECT_EQ(r.type, kRepAck);
  EXPECT_EQ(names, (std::vector<std::string>{"disk", "plain", "ro"}));
  ASSERT_TRUE(c->SendOption(kOptList, ToBuffer("x")));
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepErrInvalid);
}

TEST_F(HandshakeTest, InfoReportsSizeFlagsBlockSizesAndDescription) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  std::vector<OptionReply> infos;
  OptionReply last;
  ASSERT_TRUE(c->InfoOrGo(kOptInfo, "disk", &infos, &last, {kInfoDescription, kInfoBlockSize}));
  EXPECT_EQ(last.type, kRepAck);
  std::map<uint16_t, Buffer> by_type;
  for (auto& i : infos) by_type[GetU16BE(i.data)] = i.data;
  ASSERT_TRUE(by_type.count(kInfoExport));
  EXPECT_EQ(GetU64BE(ByteSpan(by_type[kInfoExport]).subspan(2, 8)), kSize);
  uint16_t flags = GetU16BE(ByteSpan(by_type[kInfoExport]).subspan(10, 2));
  EXPECT_TRUE(flags & kTxHasFlags);
  EXPECT_TRUE(flags & kTxCanMultiConn);
  EXPECT_TRUE(flags & kTxSendFlush);
  EXPECT_FALSE(flags & kTxReadOnly);
  ASSERT_TRUE(by_type.count(kInfoBlockSize));
  ByteSpan bs(by_type[kInfoBlockSize]);
  EXPECT_EQ(GetU32BE(bs.subspan(2, 4)), 1u);
  EXPECT_EQ(GetU32BE(bs.subspan(6, 4)), 4096u);
  EXPECT_EQ(GetU32BE(bs.subspan(10, 4)), 32u << 20);
  ASSERT_TRUE(by_type.count(kInfoDescription));
  EXPECT_EQ(AsStringView(ByteSpan(by_type[kInfoDescription]).subspan(2)), "the test disk");

  // INFO does not enter transmission: another option still works.
  ASSERT_TRUE(c->SendOption(kOptList));
  OptionReply r;
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepServer);
}

TEST_F(HandshakeTest, MultiConnAndReadOnlyFollowTheDevice) {
  uint16_t flags = 0;
  auto plain = NewClient();
  ASSERT_TRUE(plain->Connect("plain", false, nullptr, &flags));
  EXPECT_FALSE(flags & kTxCanMultiConn);
  EXPECT_TRUE(flags & kTxSendWriteZeroes);
  auto ro = NewClient();
  ASSERT_TRUE(ro->Connect("ro", false, nullptr, &flags));
  EXPECT_TRUE(flags & kTxReadOnly);
  EXPECT_FALSE(flags & (kTxSendTrim | kTxSendWriteZeroes | kTxSendFua));
}

TEST_F(HandshakeTest, GoToUnknownExportIsErrUnknownAndHagglingGoesOn) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  std::vector<OptionReply> infos;
  OptionReply last;
  ASSERT_TRUE(c->InfoOrGo(kOptGo, "vol-nope", &infos, &last));
  EXPECT_EQ(last.type, kRepErrUnknown);
  EXPECT_TRUE(infos.empty());
  EXPECT_NE(AsStringView(last.data).find("vol-nope"), std::string_view::npos);
  ASSERT_TRUE(c->InfoOrGo(kOptGo, "disk", &infos, &last));
  EXPECT_EQ(last.type, kRepAck);
}

TEST_F(HandshakeTest, MalformedGoIsErrInvalid) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  Buffer d;
  PutU32BE(d, 1000);  // name longer than the data
  PutString(d, "disk");
  ASSERT_TRUE(c->SendOption(kOptGo, d));
  OptionReply r;
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepErrInvalid);
}

TEST_F(HandshakeTest, ExportNameEntersTransmissionWithoutZeroes) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());  // negotiated NO_ZEROES
  ASSERT_TRUE(c->SendOption(kOptExportName, ToBuffer("disk")));
  std::byte info[10];
  ASSERT_TRUE(c->Recv(info));
  EXPECT_EQ(GetU64BE(ByteSpan(info, 8)), kSize);
  ASSERT_TRUE(c->Request(kCmdFlush, 0, 5, 0, 0));
  testing::Reply r;
  ASSERT_TRUE(c->ReadReply(&r));
  EXPECT_EQ(r.handle, 5u);  // no stray zero bytes came before the reply
  EXPECT_EQ(r.error, 0u);
}

TEST_F(HandshakeTest, ExportNameWithZeroesAndUnknownNameCloses) {
  auto c = NewClient();
  ASSERT_GE(c->ReadGreeting(), 0);
  ASSERT_TRUE(c->SendClientFlags(kClientFlagFixedNewstyle));
  ASSERT_TRUE(c->SendOption(kOptExportName, ToBuffer("disk")));
  std::byte info[10 + 124];
  ASSERT_TRUE(c->Recv(info));
  EXPECT_TRUE(IsAllZero(ByteSpan(info + 10, 124)));

  auto bad = NewClient();
  ASSERT_TRUE(bad->Hello());
  ASSERT_TRUE(bad->SendOption(kOptExportName, ToBuffer("nope")));
  EXPECT_TRUE(bad->ServerClosed());
}

TEST_F(HandshakeTest, AbortIsAcknowledgedThenClosed) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  ASSERT_TRUE(c->SendOption(kOptAbort));
  OptionReply r;
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepAck);
  EXPECT_TRUE(c->ServerClosed());
}

TEST_F(HandshakeTest, MetaContextNeedsStructuredRepliesAndSelectsBaseAllocation) {
  auto c = NewClient();
  ASSERT_TRUE(c->Hello());
  std::vector<OptionReply> replies;
  ASSERT_TRUE(c->SetMetaContext("disk", {"base:allocation"}, &replies));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, kRepErrInvalid);

  ASSERT_TRUE(c->StructuredReply());
  replies.clear();
  ASSERT_TRUE(c->SetMetaContext("disk", {"qemu:dirty-bitmap:x", "base:allocation"}, &replies));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].type, kRepMetaContext);
  EXPECT_EQ(AsStringView(ByteSpan(replies[0].data).subspan(4)), "base:allocation");
  EXPECT_NE(GetU32BE(replies[0].data), 0u);
  EXPECT_EQ(replies[1].type, kRepAck);

  // LIST with no query lists base:allocation with id 0.
  Buffer d;
  PutU32BE(d, 4);
  PutString(d, "disk");
  PutU32BE(d, 0);
  ASSERT_TRUE(c->SendOption(kOptListMetaContext, d));
  OptionReply r;
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepMetaContext);
  EXPECT_EQ(GetU32BE(r.data), 0u);
  ASSERT_TRUE(c->ReadOptionReply(&r));
  EXPECT_EQ(r.type, kRepAck);
}

TEST(HandshakeUnitTest, SanitizeGeometryKeepsValidAndFixesInvalid) {
  volume::Geometry g = SanitizeGeometry({.minimum = 512, .preferred = 65536, .maximum = 1 << 20});
  EXPECT_EQ(g.minimum, 512u);
  EXPECT_EQ(g.preferred, 65536u);
  EXPECT_EQ(g.maximum, 1u << 20);
  g = SanitizeGeometry({.minimum = 3, .preferred = 100, .maximum = 0});
  EXPECT_EQ(g.minimum, 1u);
  EXPECT_EQ(g.preferred, 4096u);
  EXPECT_EQ(g.maximum, 32u << 20);
  g = SanitizeGeometry({.minimum = 4096, .preferred = 4096, .maximum = 1u << 31});
  EXPECT_EQ(g.maximum, 64u << 20);
}

}  // namespace
}  // namespace cairn::nbd
