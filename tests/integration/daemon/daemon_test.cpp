// daemon_test.cpp - the real `mailwarden` daemon driven over its socket by the project's own
// milter client (tests/support/milter_client), the way Postfix drives it: negotiation, full
// transactions, the access list's replies, reload, --check-config, bad input and a graceful
// stop. Each test starts its own daemon on a free loopback port with a memory store.
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_fixture.hpp"
#include "support/milter_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "util/version.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kBlockedReply =
    "550-5.7.1 Mail from this sender is refused by policy.\r\n"
    "550 5.7.1 Contact postmaster@local.test if this is wrong.";

// An open milter connection past connect and HELO, with Postfix's macros.
struct Session {
    MilterClient client;
    PostfixMacros macros;
    StageReply connect_reply;
    StageReply helo_reply;
};

util::Result<Session> open_session(Daemon& daemon, ConnectInfo info = {}) {
    auto client = daemon.connect();
    if (!client) {
        return std::unexpected(client.error());
    }
    Session s{std::move(*client), PostfixMacros::defaults(info), {}, {}};
    auto c = s.client.connect_stage(info, s.macros.connect);
    if (!c) {
        return std::unexpected(c.error());
    }
    s.connect_reply = *c;
    if (c->is_final()) {
        return s;
    }
    auto h = s.client.helo("client.remote.test", s.macros.helo);
    if (!h) {
        return std::unexpected(h.error());
    }
    s.helo_reply = *h;
    return s;
}

MessageSpec message_from(std::string sender, std::vector<std::string> rcpts = {"bob@local.test"}) {
    MessageSpec m;
    m.mail_args = {"<" + sender + ">"};
    m.rcpts.clear();
    for (auto& r : rcpts) {
        m.rcpts.push_back({"<" + r + ">"});
    }
    m.headers = {{"From", sender},
                 {"To", rcpts.front()},
                 {"Subject", "daemon test"},
                 {"Message-ID", "<t1@remote.test>"}};
    m.body = "Hello Bob,\r\n\r\njust a test.\r\n";
    return m;
}

std::string host_name() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

// Expects the X-Mailwarden header of the contract: "<hostname> <version>; ...".
void expect_mailwarden_header(const MessageResult& r) {
    const auto value = r.added_header("X-Mailwarden");
    ASSERT_TRUE(value.has_value()) << "no X-Mailwarden header added; final " << r.final_action();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*value, m, std::regex(R"(^\s*(\S+) ([^;]*);)")))
        << "X-Mailwarden: " << *value;
    EXPECT_THAT((std::vector<std::string>{host_name(), "mx.local.test"}),
                ::testing::Contains(m[1].str()))
        << "X-Mailwarden: " << *value;
    // The contract says "<hostname> <version>;"; the version must at least be there.
    EXPECT_THAT(m[2].str(), HasSubstr(kVersion)) << "X-Mailwarden: " << *value;
}

class DaemonTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto d = Daemon::start(config());
        ASSERT_TRUE(d.has_value()) << d.error().message;
        daemon_ = std::move(*d);
    }
    virtual std::string config() { return default_daemon_config(); }

    // A complete session: connect, HELO, one message, QUIT.
    MessageResult one_message(const MessageSpec& m, ConnectInfo info = {}) {
        auto s = open_session(*daemon_, info);
        EXPECT_TRUE(s.has_value()) << s.error().message << "\nlog:\n" << daemon_->log();
        if (!s) {
            return {};
        }
        auto r = s->client.send_message(m, s->macros);
        EXPECT_TRUE(r.has_value()) << r.error().message << "\nlog:\n" << daemon_->log();
        (void)s->client.quit();
        return r ? *r : MessageResult{};
    }

    std::unique_ptr<Daemon> daemon_;
};

// ------------------------------------------------------------------ negotiation

TEST_F(DaemonTest, NegotiatesVersion6AndOnlyTheStepsItUses) {
    auto client = MilterClient::connect(daemon_->socket());
    ASSERT_TRUE(client.has_value()) << client.error().message;
    auto n = client->negotiate();
    ASSERT_TRUE(n.has_value()) << n.error().message;
    SCOPED_TRACE(::testing::Message()
                 << std::hex << "actions 0x" << n->actions << " protocol 0x" << n->protocol);
    EXPECT_EQ(n->version, 6u);
    EXPECT_NE(n->actions & milter::kActAddHeaders, 0u) << "must be allowed to add headers";
    EXPECT_EQ(n->actions & ~milter::kActAll, 0u);
    // Stages the access list needs.
    EXPECT_EQ(n->protocol & milter::kNoConnect, 0u) << "needs the client address";
    EXPECT_EQ(n->protocol & milter::kNoMail, 0u) << "needs the envelope sender";
    EXPECT_EQ(n->protocol & milter::kNoRcpt, 0u) << "needs the recipients";
    // Stages it does not use are switched off, stages that never decide need no reply.
    EXPECT_NE(n->protocol & milter::kNoUnknown, 0u) << "unknown SMTP commands are not used";
    EXPECT_TRUE((n->protocol & (milter::kNoHeaders | milter::kNrHeader)) != 0)
        << "headers: skip them or do not reply";
    EXPECT_TRUE((n->protocol & (milter::kNoBody | milter::kNrBody)) != 0)
        << "body chunks: skip them or do not reply";
}

TEST(DaemonSockets, ListenOverrideInPostfixAndUnixForms) {
    TempDir dir("mw-sock");
    const std::string sockets[] = {
        "inet:127.0.0.1:@PORT@",  // Postfix's HOST:PORT form
        "unix:" + (dir / "milter.sock").string(),
    };
    for (const auto& listen : sockets) {
        SCOPED_TRACE(listen);
        Daemon::Options options;
        options.listen = listen;
        auto d = Daemon::start(default_daemon_config(), options);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        auto s = open_session(**d);
        ASSERT_TRUE(s.has_value()) << s.error().message;
        auto r = s->client.send_message(message_from("alice@remote.test"), s->macros);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_EQ(r->final_action(), "accept");
        (void)s->client.quit();
        EXPECT_EQ((*d)->stop(), 0) << (*d)->log();
    }
}

// ------------------------------------------------------------------ transactions

TEST_F(DaemonTest, AcceptedMessageGetsTheHeader) {
    const auto r = one_message(message_from("alice@remote.test"));
    EXPECT_EQ(r.final_action(), "accept");
    EXPECT_EQ(r.decided_at, Stage::EndOfMessage);
    expect_mailwarden_header(r);
    EXPECT_FALSE(r.replaced_body.has_value());
    EXPECT_TRUE(r.added_rcpts.empty());
    EXPECT_TRUE(r.deleted_rcpts.empty());
    EXPECT_FALSE(r.new_sender.has_value());
}

TEST_F(DaemonTest, BlockedSenderGetsTheMultiLineReplyAtMail) {
    struct Case {
        std::string name;
        std::string sender;
    };
    const Case cases[] = {
        {"address", "blocked@remote.test"},
        {"domain", "anyone@blocked.test"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto r = one_message(message_from(c.sender));
        EXPECT_EQ(r.decided_at, Stage::Mail);
        EXPECT_EQ(r.decisive.kind, ReplyKind::ReplyCode);
        EXPECT_EQ(r.decisive.text, kBlockedReply);
        EXPECT_EQ(r.final_action(), "reject");
    }
}

TEST_F(DaemonTest, RecipientRuleRejectsOnlyThatRecipient) {
    const auto r =
        one_message(message_from("alice@remote.test", {"noone@local.test", "bob@local.test"}));
    ASSERT_EQ(r.rcpt_replies.size(), 2u);
    EXPECT_EQ(r.rcpt_replies[0].kind, ReplyKind::ReplyCode);
    EXPECT_EQ(r.rcpt_replies[0].text, "550 5.1.1 No such user here");
    EXPECT_THAT(r.rcpt_replies[1].kind, ::testing::AnyOf(ReplyKind::Continue, ReplyKind::None));
    EXPECT_EQ(r.final_action(), "accept");
    expect_mailwarden_header(r);
}

TEST_F(DaemonTest, ClientRuleTempfails) {
    ConnectInfo info;
    info.hostname = "unknown";
    info.address = "192.0.2.66";
    auto s = open_session(*daemon_, info);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    if (s->connect_reply.is_final()) {
        // Decided at connect: a tempfail, plain or with a 4xx text.
        EXPECT_TRUE(
            s->connect_reply.kind == ReplyKind::Tempfail ||
            (s->connect_reply.kind == ReplyKind::ReplyCode && s->connect_reply.code() / 100 == 4))
            << to_string(s->connect_reply.kind) << " " << s->connect_reply.text;
        return;
    }
    auto r = s->client.send_message(message_from("alice@remote.test"), s->macros);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->final_action(), "tempfail") << to_string(r->decided_at) << " " << r->decisive.text;
}

TEST_F(DaemonTest, StateIsResetBetweenMessagesOnOneConnection) {
    auto s = open_session(*daemon_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    struct Step {
        std::string name;
        MessageSpec message;
        std::string want;
    };
    std::vector<Step> steps = {
        {"first accepted", message_from("alice@remote.test"), "accept"},
        {"blocked sender", message_from("blocked@remote.test"), "reject"},
        {"accepted after a reject", message_from("carol@remote.test"), "accept"},
        {"only recipient refused", message_from("dave@remote.test", {"noone@local.test"}),
         "reject"},
        {"accepted after a refused recipient", message_from("erin@remote.test"), "accept"},
    };
    for (auto& step : steps) {
        SCOPED_TRACE(step.name);
        step.message.queue_id = "Q" + std::to_string(&step - steps.data());
        auto r = s->client.send_message(step.message,
                                        PostfixMacros::defaults({}, step.message.queue_id));
        ASSERT_TRUE(r.has_value()) << r.error().message << "\nlog:\n" << daemon_->log();
        EXPECT_EQ(r->final_action(), step.want);
        if (step.want == "accept") {
            expect_mailwarden_header(*r);
        }
    }
    EXPECT_TRUE(s->client.quit().has_value());
    EXPECT_TRUE(s->client.peer_closed(5s));
}

TEST_F(DaemonTest, ManyMessagesBodyInSeveralChunks) {
    auto m = message_from("alice@remote.test");
    m.body.clear();
    for (int i = 0; m.body.size() < 200 * 1024; ++i) {
        m.body += "line " + std::to_string(i) + " of a long body, long enough to need chunks\r\n";
    }
    const auto r = one_message(m);
    EXPECT_EQ(r.final_action(), "accept");
    expect_mailwarden_header(r);
}

// ------------------------------------------------------------------ reload

constexpr std::string_view kExtraRule = R"(
  - sender: ["newly-blocked@remote.test"]
    action: reject
    reply: "Blocked since the reload."
)";

TEST_F(DaemonTest, SighupAppliesANewRule) {
    EXPECT_EQ(one_message(message_from("newly-blocked@remote.test")).final_action(), "accept");
    ASSERT_TRUE(daemon_->write_config(default_daemon_config() + std::string(kExtraRule)));
    const std::string log = daemon_->reload();
    const auto r = one_message(message_from("newly-blocked@remote.test"));
    EXPECT_EQ(r.final_action(), "reject") << "reload log:\n" << log;
    EXPECT_EQ(r.decided_at, Stage::Mail);
    EXPECT_THAT(r.decisive.text, HasSubstr("Blocked since the reload.")) << r.decisive.text;
    EXPECT_TRUE(daemon_->process().running());
}

TEST_F(DaemonTest, SighupWithABrokenConfigKeepsTheOldOne) {
    ASSERT_TRUE(daemon_->write_config(default_daemon_config() + std::string(kExtraRule)));
    daemon_->reload();
    ASSERT_EQ(one_message(message_from("newly-blocked@remote.test")).final_action(), "reject");

    // Broken: an unknown action on line 2 (and the new rule is gone from the file).
    ASSERT_TRUE(daemon_->write_config(default_daemon_config() + R"(
  - sender: ["other@remote.test"]
    action: explode
)"));
    const std::string log = daemon_->reload();
    EXPECT_TRUE(daemon_->process().running()) << daemon_->log();
    EXPECT_THAT(log, HasSubstr("mailwarden.yaml")) << "the log must name the bad file";
    EXPECT_THAT(log, HasSubstr("explode")) << "the log must say what is wrong";
    // The old config (with the extra rule) is still in force.
    EXPECT_EQ(one_message(message_from("newly-blocked@remote.test")).final_action(), "reject");
    EXPECT_EQ(one_message(message_from("blocked@remote.test")).decisive.text, kBlockedReply);
    const auto ok = one_message(message_from("alice@remote.test"));
    EXPECT_EQ(ok.final_action(), "accept");
}

// ------------------------------------------------------------------ command line

TEST(DaemonCommandLine, CheckConfigAcceptsAGoodFile) {
    TempDir dir("mw-check");
    const auto cfg =
        dir.write("good.yaml", replace_all(replace_all(default_daemon_config(), "@PORT@", "18891"),
                                           "@DIR@", dir.path().string()));
    auto r = run(command(daemon_binary(), {"-c", cfg.string(), "--check-config"}));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 0) << r->output;
}

TEST(DaemonCommandLine, CheckConfigNamesFileLineAndColumn) {
    TempDir dir("mw-check");
    struct Case {
        std::string name;
        std::string yaml;
        std::string want;  // "file:line:col" or "file:line:"
    };
    const Case cases[] = {
        {"unknown top-level key",
         "listen: \"inet:18891@127.0.0.1\"\nstore: { backend: memory }\nbogus_key: 1\n",
         "bad.yaml:3:1"},
        {"unknown action",
         "listen: \"inet:18891@127.0.0.1\"\nstore: { backend: memory }\naccess_list:\n"
         "  - sender: [\"x@remote.test\"]\n    action: explode\n",
         "bad.yaml:5:"},
        {"yaml syntax", "listen: \"inet:18891@127.0.0.1\"\nstore: { backend: memory\n",
         "bad.yaml:"},
        {"bad socket", "listen: \"inet:notaport@127.0.0.1\"\nstore: { backend: memory }\n",
         "bad.yaml:1:"},
        {"socket with spaces", "listen: \"inet:18891@127.0.0.1 store\"\n", "bad.yaml:1:"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto cfg = dir.write("bad.yaml", c.yaml);
        auto r = run(command(daemon_binary(), {"-c", cfg.string(), "--check-config"}));
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_NE(r->status, 0) << r->output;
        EXPECT_THAT(r->output, HasSubstr(c.want));
    }
    auto missing =
        run(command(daemon_binary(), {"-c", (dir / "absent.yaml").string(), "--check-config"}));
    ASSERT_TRUE(missing.has_value());
    EXPECT_NE(missing->status, 0);
    EXPECT_THAT(missing->output, HasSubstr("absent.yaml"));
}

TEST(DaemonCommandLine, VersionPrintsTheVersion) {
    auto r = run(command(daemon_binary(), {"--version"}));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 0) << r->output;
    EXPECT_THAT(r->output, HasSubstr(kVersion));
}

TEST(DaemonCommandLine, RefusesToStartOnABadConfig) {
    TempDir dir("mw-bad");
    const auto cfg = dir.write("bad.yaml", "listen: \"inet:18892@127.0.0.1\"\nbogus_key: 1\n");
    auto r = run(command(daemon_binary(), {"-c", cfg.string(), "--foreground"}), 10s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_GT(r->status, 0) << r->output;
    EXPECT_THAT(r->output, HasSubstr("bad.yaml:2:1"));
}

// ------------------------------------------------------------------ bad input

class DaemonBadInputTest : public DaemonTest {
  protected:
    // After each bad input the daemon must still serve a normal transaction.
    void expect_still_serving() {
        ASSERT_TRUE(daemon_->process().running()) << daemon_->log();
        const auto r = one_message(message_from("alice@remote.test"));
        EXPECT_EQ(r.final_action(), "accept") << daemon_->log();
        expect_mailwarden_header(r);
    }
};

TEST_F(DaemonBadInputTest, GarbageLength) {
    auto c = MilterClient::connect(daemon_->socket());
    ASSERT_TRUE(c.has_value());
    ASSERT_TRUE(c->send_raw(std::string("\xff\xff\xff\xfegarbage garbage garbage", 27)));
    EXPECT_TRUE(c->peer_closed(10s)) << "a garbage length must end the connection";
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, ZeroLengthAndTruncatedPackets) {
    {
        // Length 0 (no command byte), then more bytes.
        auto c = MilterClient::connect(daemon_->socket());
        ASSERT_TRUE(c.has_value());
        ASSERT_TRUE(c->send_raw(std::string("\0\0\0\0O\0\0\0\x06", 9)));
        (void)c->read_packet();
    }
    {
        // A packet announced as 32 bytes, cut after 3, then a disconnect.
        auto c = MilterClient::connect(daemon_->socket());
        ASSERT_TRUE(c.has_value());
        ASSERT_TRUE(c->send_raw(std::string("\0\0\0\x20O\0\0", 7)));
    }
    {
        // An option negotiation that is too short.
        auto c = MilterClient::connect(daemon_->socket());
        ASSERT_TRUE(c.has_value());
        ASSERT_TRUE(c->send_packet('O', std::string("\0\0\0\x06", 4)));
        (void)c->read_packet();
    }
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, UnknownCommand) {
    auto s = open_session(*daemon_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    ASSERT_TRUE(s->client.send_packet('Z', "whatever"));
    // libmilter answers or closes; either way nothing breaks for the next client.
    (void)s->client.read_packet();
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, MalformedStagePayloads) {
    auto s = open_session(*daemon_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    // MAIL without a terminating NUL, a header without a value, a connect packet cut short.
    ASSERT_TRUE(s->client.send_packet('M', "<unterminated@remote.test>"));
    (void)s->client.read_packet();
    (void)s->client.send_packet('L', std::string("Subject", 7));
    (void)s->client.read_packet();
    {
        auto c = daemon_->connect();
        ASSERT_TRUE(c.has_value());
        (void)c->send_packet('C', std::string("host\0"
                                              "4",
                                              6));
        (void)c->read_packet();
    }
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, DisconnectMidMessage) {
    for (int round = 0; round < 3; ++round) {
        auto s = open_session(*daemon_);
        ASSERT_TRUE(s.has_value()) << s.error().message;
        ASSERT_TRUE(
            s->client.mail({"<alice@remote.test>"}, {{"{mail_addr}", "alice@remote.test"}}));
        ASSERT_TRUE(s->client.rcpt({"<bob@local.test>"}, {{"{rcpt_addr}", "bob@local.test"}}));
        ASSERT_TRUE(s->client.header("Subject", "cut short", {{"i", "CUT1"}}));
        ASSERT_TRUE(s->client.body_chunk("half a bo", {{"i", "CUT1"}}));
        s->client.close();
    }
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, AbsentMacros) {
    auto c = daemon_->connect();
    ASSERT_TRUE(c.has_value()) << c.error().message;
    ConnectInfo info;
    ASSERT_TRUE(c->connect_stage(info));  // no macro packets at all
    ASSERT_TRUE(c->helo("client.remote.test"));
    auto m = message_from("alice@remote.test");
    m.send_macros = false;
    auto r = c->send_message(m, PostfixMacros{});
    ASSERT_TRUE(r.has_value()) << r.error().message << "\nlog:\n" << daemon_->log();
    EXPECT_EQ(r->final_action(), "accept");
    auto blocked = message_from("blocked@remote.test");
    blocked.send_macros = false;
    r = c->send_message(blocked, PostfixMacros{});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->decisive.text, kBlockedReply);
    (void)c->quit();
    // A connection whose connect packet has family 'U' (unknown, no address).
    auto u = daemon_->connect();
    ASSERT_TRUE(u.has_value());
    ConnectInfo unknown;
    unknown.family = 'U';
    auto cr = u->connect_stage(unknown);
    ASSERT_TRUE(cr.has_value()) << cr.error().message;
    expect_still_serving();
}

TEST_F(DaemonBadInputTest, PeerThatNeverNegotiates) {
    std::vector<MilterClient> idle;
    for (int i = 0; i < 8; ++i) {
        auto c = MilterClient::connect(daemon_->socket());
        ASSERT_TRUE(c.has_value());
        idle.push_back(std::move(*c));
    }
    expect_still_serving();
}

// ------------------------------------------------------------------ stop

TEST_F(DaemonTest, SigtermWithoutTrafficExitsZero) {
    ASSERT_TRUE(daemon_->process().signal(SIGTERM));
    const auto status = daemon_->process().wait(15s);
    ASSERT_TRUE(status.has_value()) << "daemon did not exit after SIGTERM\n" << daemon_->log();
    EXPECT_EQ(*status, 0) << daemon_->log();
}

TEST_F(DaemonTest, SigtermLetsTheTransactionInFlightFinish) {
    auto s = open_session(*daemon_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    const auto eod = Macros{{"i", "INFLIGHT1"}};
    ASSERT_TRUE(s->client.mail({"<alice@remote.test>"}, {{"{mail_addr}", "alice@remote.test"}}));
    ASSERT_TRUE(s->client.rcpt({"<bob@local.test>"}, {{"{rcpt_addr}", "bob@local.test"}}));
    ASSERT_TRUE(s->client.data(eod));
    ASSERT_TRUE(s->client.header("Subject", "in flight", eod));

    ASSERT_TRUE(daemon_->process().signal(SIGTERM));
    std::this_thread::sleep_for(500ms);

    ASSERT_TRUE(s->client.end_of_headers(eod));
    ASSERT_TRUE(s->client.body("The daemon was asked to stop meanwhile.\r\n", eod));
    auto eom = s->client.end_of_message(eod);
    ASSERT_TRUE(eom.has_value()) << eom.error().message << "\nlog:\n" << daemon_->log();
    EXPECT_EQ(eom->kind, ReplyKind::Accept) << to_string(eom->kind);
    bool header = false;
    for (const auto& mod : eom->modifications) {
        header =
            header || (mod.kind == Modification::Kind::AddHeader && mod.name == "X-Mailwarden");
    }
    EXPECT_TRUE(header) << "the message in flight still gets its header";
    (void)s->client.quit();
    s->client.close();

    const auto status = daemon_->process().wait(20s);
    ASSERT_TRUE(status.has_value()) << "daemon did not exit after SIGTERM\n" << daemon_->log();
    EXPECT_EQ(*status, 0) << daemon_->log();
}

}  // namespace
}  // namespace mailwarden::testing
