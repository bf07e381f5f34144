// The two milter engines (milter_engine: libmilter | native) against the same config: the
// same option negotiation, the same answers, replies and header edits for the same
// messages, also for an MTA that offers fewer protocol flags (no-reply faked by CONTINUE).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/daemon_fixture.hpp"

namespace mailwarden::testing {
namespace {

struct Seen {
    Negotiated negotiated;
    std::vector<std::string> outcomes;  // per message: action, reply text, header edits
};

std::string describe(const MessageResult& r) {
    std::string text = r.final_action() + "|" + r.decisive.text;
    for (const auto& e : r.header_edits) {
        // The X-Mailwarden value names the queue id and time: compare the names only.
        text += "|" + std::string(1, static_cast<char>(e.kind)) + e.name;
    }
    for (const auto& rc : r.rcpt_replies) {
        text += "|rcpt:" + std::string(to_string(rc.kind)) + rc.text;
    }
    return text;
}

MessageSpec message(std::string sender, std::string rcpt = "bob@local.test") {
    MessageSpec m;
    m.mail_args = {"<" + sender + ">"};
    m.rcpts = {{"<" + rcpt + ">"}};
    m.headers = {{"From", sender}, {"To", rcpt}, {"Subject", "parity"}};
    m.body = "Hello.\r\n";
    return m;
}

Seen run_engine(const std::string& engine, std::uint32_t protocol_offer) {
    Seen seen;
    auto d = Daemon::start(default_daemon_config() + "milter_engine: " + engine + "\n");
    EXPECT_TRUE(d.has_value()) << d.error().message;
    if (!d) {
        return seen;
    }
    // The start-up line follows the listening socket: wait for it (bounded).
    const std::string banner = "engine: " + engine;
    for (int i = 0; i < 250 && (*d)->log().find(banner) == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_THAT((*d)->log(), ::testing::HasSubstr(banner));
    auto c = MilterClient::connect((*d)->socket());
    EXPECT_TRUE(c.has_value());
    if (!c) {
        return seen;
    }
    auto n = c->negotiate(6, milter::kActAll, protocol_offer);
    EXPECT_TRUE(n.has_value()) << n.error().message;
    if (!n) {
        return seen;
    }
    seen.negotiated = *n;
    ConnectInfo info;
    const auto macros = PostfixMacros::defaults(info);
    auto cr = c->connect_stage(info, macros.connect);
    EXPECT_TRUE(cr.has_value());
    seen.outcomes.push_back("connect:" + std::string(to_string(cr ? cr->kind : ReplyKind::None)));
    auto hr = c->helo("client.remote.test", macros.helo);
    EXPECT_TRUE(hr.has_value());
    seen.outcomes.push_back("helo:" + std::string(to_string(hr ? hr->kind : ReplyKind::None)));
    for (const auto& m :
         {message("alice@remote.test"), message("blocked@remote.test"),
          message("carol@remote.test", "noone@local.test"), message("dave@remote.test")}) {
        auto r = c->send_message(m, macros);
        EXPECT_TRUE(r.has_value()) << r.error().message << "\n" << (*d)->log();
        seen.outcomes.push_back(r ? describe(*r) : "error");
    }
    (void)c->quit();
    EXPECT_TRUE(c->peer_closed(std::chrono::seconds(5))) << "QUIT closes the connection";
    return seen;
}

TEST(EngineParity, SameNegotiationAndAnswers) {
    for (const std::uint32_t offer :
         {milter::kProtoAll, milter::kProtoAll & ~(milter::kNrConnect | milter::kNrHelo |
                                                   milter::kHeaderLeadingSpace)}) {
        SCOPED_TRACE(::testing::Message() << "protocol offered 0x" << std::hex << offer);
        const Seen lib = run_engine("libmilter", offer);
        const Seen native = run_engine("native", offer);
        EXPECT_EQ(lib.negotiated.version, native.negotiated.version);
        EXPECT_EQ(lib.negotiated.actions, native.negotiated.actions);
        EXPECT_EQ(lib.negotiated.protocol, native.negotiated.protocol);
        EXPECT_EQ(lib.negotiated.symlists, native.negotiated.symlists);
        EXPECT_EQ(lib.outcomes, native.outcomes);
        EXPECT_EQ(lib.outcomes.size(), 6u);
    }
}

}  // namespace
}  // namespace mailwarden::testing
