// Unit tests of the native engine's wire codec and MTA context (milter/native).
#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include <gtest/gtest.h>

#include <cstring>

#include "milter/native/native_context.hpp"
#include "milter/native/packet.hpp"

namespace mailwarden::milter::native {
namespace {

using namespace std::string_view_literals;

std::string frame(char command, std::string_view payload) {
    std::string out;
    append_packet(out, command, payload);
    return out;
}

void feed(PacketReader& reader, std::string_view bytes) {
    auto area = reader.write_area(bytes.size());
    std::copy(bytes.begin(), bytes.end(), area.begin());
    reader.commit(bytes.size());
}

TEST(NativePacket, FramesWithBigEndianLengthCountingTheCommand) {
    EXPECT_EQ(frame('c', ""),
              "\0\0\0\x01"
              "c"sv);
    EXPECT_EQ(frame('M', "<a@b>\0"sv), "\0\0\0\x07M<a@b>\0"sv);
}

TEST(NativePacket, ReaderHandsOutEveryPacketOfOneReadAndWaitsForTheRest) {
    PacketReader reader;
    const std::string two = frame('D', "Ci\0Q1\0"sv) + frame('M', "<a@b>\0"sv);
    const std::string third = frame('R', "<c@d>\0"sv);
    feed(reader, two + third.substr(0, 6));
    PacketView p;
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.command, 'D');
    EXPECT_EQ(p.payload, "Ci\0Q1\0"sv);
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.command, 'M');
    EXPECT_EQ(reader.next(p), PacketReader::Status::NeedMore) << "third packet is cut";
    feed(reader, third.substr(6));
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.command, 'R');
    EXPECT_EQ(p.payload, "<c@d>\0"sv);
    EXPECT_EQ(reader.buffered(), 0u);
}

TEST(NativePacket, ReaderAssemblesAPacketLargerThanOneRead) {
    PacketReader reader;
    const std::string body(65535, 'x');
    const std::string packet = frame('B', body);
    for (std::size_t off = 0; off < packet.size(); off += 1000) {
        PacketView p;
        EXPECT_EQ(reader.next(p), PacketReader::Status::NeedMore);
        feed(reader, std::string_view(packet).substr(off, 1000));
    }
    PacketView p;
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.payload.size(), body.size());
}

TEST(NativePacket, ZeroAndGarbageLengthsAreMalformed) {
    for (const auto bytes : {"\0\0\0\0O"sv, "\xff\xff\xff\xfeO"sv}) {
        PacketReader reader;
        feed(reader, bytes);
        PacketView p;
        EXPECT_EQ(reader.next(p), PacketReader::Status::Malformed);
    }
    PacketReader reader;
    std::string just_over(4, '\0');
    const std::uint32_t n = htonl(static_cast<std::uint32_t>(kMaxPayload + 2));
    std::memcpy(just_over.data(), &n, 4);
    feed(reader, just_over);
    PacketView p;
    EXPECT_EQ(reader.next(p), PacketReader::Status::Malformed);
}

TEST(NativePacket, SplitStringsFollowsLibmilter) {
    EXPECT_EQ(split_strings("<a@b>\0SIZE=10\0"sv),
              (std::vector<std::string_view>{"<a@b>", "SIZE=10"}));
    EXPECT_EQ(split_strings("<a@b>\0tail"sv), (std::vector<std::string_view>{"<a@b>"}))
        << "an unterminated tail is dropped";
    EXPECT_FALSE(split_strings("<unterminated@b>").has_value());
}

TEST(NativePacket, DecodesHeaders) {
    auto h = decode_header("Subject\0 hi\0"sv);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->first, "Subject");
    EXPECT_EQ(h->second, " hi");
    EXPECT_TRUE(decode_header("Subject\0\0"sv).has_value()) << "an empty value is fine";
    EXPECT_FALSE(decode_header("Subject"sv).has_value());
    EXPECT_FALSE(decode_header("Subject\0"sv).has_value()) << "no value";
    EXPECT_FALSE(decode_header(""sv).has_value());
}

TEST(NativePacket, DecodesConnectInformation) {
    auto c = decode_connect(
        "mx.remote.test\0"
        "4\x9c\x40"
        "192.0.2.1\0"sv);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->hostname, "mx.remote.test");
    EXPECT_EQ(c->family, '4');
    EXPECT_EQ(c->port, 40000);
    EXPECT_EQ(c->address, "192.0.2.1");
    auto u = decode_connect("host\0U"sv);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->family, 'U');
    EXPECT_FALSE(decode_connect("host\0"
                                "4"sv)
                     .has_value())
        << "cut after the family";
    EXPECT_FALSE(decode_connect("host\0"
                                "4\0\x19"
                                "1.2.3.4"sv)
                     .has_value())
        << "unterminated";
    EXPECT_FALSE(decode_connect("host\0X\0\x19"
                                "1.2.3.4\0"sv)
                     .has_value())
        << "bad family";
    EXPECT_FALSE(decode_connect("host"sv).has_value());
}

TEST(NativePacket, OptionNegotiationRoundTrip) {
    EXPECT_FALSE(decode_optneg("\0\0\0\x06"sv).has_value());
    const std::pair<std::uint32_t, std::string_view> lists[] = {{SMFIM_CONNECT, "j"}};
    const std::string answer = encode_optneg(6, 0x121, 0x1ff, lists);
    auto back = decode_optneg(answer);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->version, 6u);
    EXPECT_EQ(back->actions, 0x121u);
    EXPECT_EQ(back->protocol, 0x1ffu);
    EXPECT_EQ(answer.substr(12), "\0\0\0\0j\0"sv);
}

TEST(NativePacket, DecodesMacros) {
    auto m = decode_macros("Mi\0Q1\0{mail_addr}\0a@b\0dangling\0"sv);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->stage, 'M');
    ASSERT_EQ(m->pairs.size(), 2u);
    EXPECT_EQ(m->pairs[1].first, "{mail_addr}");
    EXPECT_EQ(m->pairs[1].second, "a@b");
    EXPECT_FALSE(decode_macros(""sv).has_value());
    EXPECT_FALSE(decode_macros("M"sv).has_value());
}

TEST(NativeMacroTable, LaterStagesFirstAndBracesOptional) {
    MacroTable t;
    t.set(*MacroTable::slot_of('C'), {{"j", "mx.local"}, {"{daemon_name}", "smtpd"}});
    t.set(*MacroTable::slot_of('M'), {{"{i}", "QID1"}});
    t.set(*MacroTable::slot_of('E'), {{"i", "QID2"}});
    EXPECT_EQ(t.find("i"), "QID2");
    EXPECT_EQ(t.find("{j}"), "mx.local");
    EXPECT_EQ(t.find("daemon_name"), std::nullopt) << "only one-letter names go both ways";
    t.clear_from(*MacroTable::slot_of('R'));
    EXPECT_EQ(t.find("i"), "QID1");
    EXPECT_FALSE(MacroTable::slot_of('Z').has_value());
}

TEST(NativeReply, FormatsAsLibmilterDoes) {
    EXPECT_EQ(*format_reply_text({550, "5.7.1", {"Go away"}}), "550 5.7.1 Go away");
    EXPECT_EQ(*format_reply_text({451, "", {"later"}}), "451 later");
    EXPECT_EQ(*format_reply_text({550, "5.7.1", {"a", "b%"}}), "550-5.7.1 a\r\n550 5.7.1 b%%");
    EXPECT_EQ(*format_reply_text({451, "", {"a", "b"}}), "451-4.0.0 a\r\n451 4.0.0 b");
    EXPECT_FALSE(format_reply_text({250, "", {"ok"}}).has_value());
    EXPECT_FALSE(format_reply_text({550, "5.x.1", {"x"}}).has_value());
    EXPECT_FALSE(format_reply_text({550, "", {"a\r\nb"}}).has_value());
}

TEST(NativeContext, ModificationsOnlyAtEndOfMessageAndWhenNegotiated) {
    std::string out;
    NativeMtaContext mta(out);
    mta.set_negotiated(SMFIF_ADDHDRS | SMFIF_QUARANTINE, SMFIP_HDR_LEADSPC);
    EXPECT_FALSE(mta.add_header("X-A", "1").has_value()) << "not at end of message";
    mta.set_end_of_message(true);
    ASSERT_TRUE(mta.add_header("X-A", "1\r\n\tfolded").has_value());
    EXPECT_EQ(out, frame(SMFIR_ADDHEADER, "X-A\0 1\n\tfolded\0"sv));
    out.clear();
    ASSERT_TRUE(mta.insert_header(0, "X-B", "2").has_value());
    EXPECT_EQ(out, frame(SMFIR_INSHEADER, "\0\0\0\0X-B\0 2\0"sv));
    EXPECT_FALSE(mta.remove_header(1, "X-C").has_value()) << "SMFIF_CHGHDRS not negotiated";
    EXPECT_FALSE(mta.replace_body("new").has_value()) << "SMFIF_CHGBODY not negotiated";
    out.clear();
    ASSERT_TRUE(mta.quarantine("held").has_value());
    EXPECT_EQ(out, frame(SMFIR_QUARANTINE, "held\0"sv));
}

TEST(NativeContext, ReplacedBodyGoesInChunks) {
    std::string out;
    NativeMtaContext mta(out);
    mta.set_negotiated(SMFIF_CHGBODY | SMFIF_CHGHDRS, 0);
    mta.set_end_of_message(true);
    const std::string body(kMaxBodyChunk + 10, 'b');
    ASSERT_TRUE(mta.replace_body(body).has_value());
    PacketReader reader;
    feed(reader, out);
    PacketView p;
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.command, SMFIR_REPLBODY);
    EXPECT_EQ(p.payload.size(), kMaxBodyChunk);
    ASSERT_EQ(reader.next(p), PacketReader::Status::Packet);
    EXPECT_EQ(p.payload.size(), 10u);
    out.clear();
    ASSERT_TRUE(mta.remove_header(2, "X-Old").has_value());
    EXPECT_EQ(out, frame(SMFIR_CHGHEADER, "\0\0\0\x02X-Old\0\0"sv));
}

TEST(NativeContext, ReplyIsTakenOnlyByARefusalOfItsClass) {
    std::string out;
    NativeMtaContext mta(out);
    ASSERT_TRUE(mta.set_reply({550, "5.7.1", {"no"}}).has_value());
    EXPECT_FALSE(mta.take_reply('4').has_value());
    EXPECT_EQ(mta.take_reply('5'), "550 5.7.1 no");
    EXPECT_FALSE(mta.take_reply('5').has_value()) << "consumed";
}

}  // namespace
}  // namespace mailwarden::milter::native
