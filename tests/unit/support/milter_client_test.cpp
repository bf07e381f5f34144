// milter_client_test.cpp - the test milter client against a scripted fake milter on a unix
// socket in a temporary directory: framing, negotiation, NO*/NR_* flags, end-of-message
// modifications, and malformed replies (errors, never crashes).
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/matchers.hpp"
#include "support/milter_client.hpp"
#include "support/temp_dir.hpp"

namespace mailwarden::testing {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

std::string packet(char command, std::string_view data) {
    std::string out(4, '\0');
    const std::uint32_t len = htonl(static_cast<std::uint32_t>(data.size() + 1));
    std::memcpy(out.data(), &len, 4);
    out.push_back(command);
    out.append(data);
    return out;
}

std::string u32(std::uint32_t v) {
    const std::uint32_t be = htonl(v);
    return std::string(reinterpret_cast<const char*>(&be), 4);
}

// The milter end: reads packets, writes scripted bytes.
struct Peer {
    int fd;
    // Reads one packet; command 0 on EOF.
    Packet read() const {
        char header[4];
        if (!read_all(header, 4)) {
            return {};
        }
        std::uint32_t len = 0;
        std::memcpy(&len, header, 4);
        len = ntohl(len);
        std::string buf(len, '\0');
        if (len == 0 || !read_all(buf.data(), len)) {
            return {};
        }
        return Packet{buf[0], buf.substr(1)};
    }
    bool read_all(char* out, std::size_t len) const {
        std::size_t got = 0;
        while (got < len) {
            const ssize_t n = ::read(fd, out + got, len - got);
            if (n <= 0) {
                return false;
            }
            got += static_cast<std::size_t>(n);
        }
        return true;
    }
    void write(std::string_view bytes) const {
        [[maybe_unused]] auto n = ::write(fd, bytes.data(), bytes.size());
    }
    // Answers option negotiation with `protocol` and all actions.
    void negotiate(std::uint32_t protocol) const {
        const Packet p = read();
        EXPECT_EQ(p.command, 'O');
        write(packet('O', u32(6) + u32(milter::kActAll) + u32(protocol)));
    }
};

// A one-connection fake milter on a unix socket; `script` runs in its own thread.
class FakeMilter {
  public:
    explicit FakeMilter(std::function<void(const Peer&)> script) {
        path_ = (dir_ / "fake.sock").string();
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::strncpy(sun.sun_path, path_.c_str(), sizeof sun.sun_path - 1);
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
        EXPECT_EQ(::listen(listen_fd_, 1), 0);
        thread_ = std::thread([this, script = std::move(script)] {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd >= 0) {
                script(Peer{fd});
                ::close(fd);
            }
        });
    }
    ~FakeMilter() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        thread_.join();
        ::close(listen_fd_);
    }
    std::string socket() const { return "unix:" + path_; }

    MilterClient connect() const {
        auto c = MilterClient::connect(socket(), 2s);
        EXPECT_TRUE(c.has_value()) << c.error().message;
        c->set_timeout(2s);
        return std::move(*c);
    }

  private:
    TempDir dir_{"mw-fake-milter"};
    std::string path_;
    int listen_fd_ = -1;
    std::thread thread_;
};

TEST(MilterClient, ParsesSocketSpecs) {
    struct Case {
        std::string spec;
        util::ErrorCode want;
    };
    const Case cases[] = {
        {"nonsense", util::ErrorCode::InvalidInput},
        {"tcp:1@127.0.0.1", util::ErrorCode::InvalidInput},
        {"inet:127.0.0.1", util::ErrorCode::InvalidInput},
        {"unix:", util::ErrorCode::InvalidInput},
        {"unix:/nonexistent/dir/sock", util::ErrorCode::Unavailable},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.spec);
        EXPECT_THAT(MilterClient::connect(c.spec, 1s), HasError(c.want));
    }
}

TEST(MilterClient, NegotiatesAndRecordsTheAnswer) {
    FakeMilter fake([](const Peer& peer) {
        const Packet p = peer.read();
        EXPECT_EQ(p.command, 'O');
        EXPECT_EQ(p.data, u32(6) + u32(0x1ff) + u32(0x1fffff));  // what Postfix offers
        peer.write(packet('O', u32(6) + u32(milter::kActAddHeaders) +
                                   u32(milter::kNoUnknown | milter::kNrHeader) + u32(2) +
                                   std::string("{mail_addr} i\0", 14)));
    });
    auto client = fake.connect();
    auto n = client.negotiate();
    ASSERT_THAT(n, IsOk());
    EXPECT_EQ(n->version, 6u);
    EXPECT_EQ(n->actions, milter::kActAddHeaders);
    ASSERT_EQ(n->symlists.size(), 1u);
    EXPECT_EQ(n->symlists[0].first, 2u);
    EXPECT_EQ(n->symlists[0].second, "{mail_addr} i");
    EXPECT_TRUE(client.skips(Stage::Unknown));
    EXPECT_TRUE(client.no_reply(Stage::Header));
    EXPECT_FALSE(client.no_reply(Stage::Mail));
}

TEST(MilterClient, HonoursSkipAndNoReplyFlags) {
    std::vector<std::string> seen;
    {
        FakeMilter fake([&seen](const Peer& peer) {
            peer.negotiate(milter::kNoHelo | milter::kNrHeader | milter::kNoBody);
            for (Packet p = peer.read(); p.command != 0; p = peer.read()) {
                seen.push_back(std::string(1, p.command) +
                               (p.command == 'D' ? std::string(1, p.data[0]) : ""));
                if (p.command == 'E') {
                    peer.write(packet('a', ""));
                }
            }
        });
        auto client = fake.connect();
        ASSERT_THAT(client.negotiate(), IsOk());
        auto helo = client.helo("x", {{"{tls_version}", "TLSv1.3"}});
        ASSERT_THAT(helo, IsOk());
        EXPECT_EQ(helo->kind, ReplyKind::None);  // skipped, only its macros went out
        auto header = client.header("Subject", "s", {{"i", "Q1"}});
        ASSERT_THAT(header, IsOk());
        EXPECT_EQ(header->kind, ReplyKind::None);  // sent, no reply awaited
        auto body = client.body(std::string(100, 'x'), {{"i", "Q1"}});
        ASSERT_THAT(body, IsOk());
        auto eom = client.end_of_message({{"i", "Q1"}});
        ASSERT_THAT(eom, IsOk());
        EXPECT_EQ(eom->kind, ReplyKind::Accept);
        ASSERT_THAT(client.quit(), IsOk());
        client.close();
    }
    // Postfix sends a skipped stage's macros but not the stage itself.
    EXPECT_THAT(seen, ElementsAre("DH", "DL", "L", "DB", "DE", "E", "Q"));
}

TEST(MilterClient, CollectsEndOfMessageModifications) {
    FakeMilter fake([](const Peer& peer) {
        peer.negotiate(0);
        EXPECT_EQ(peer.read().command, 'E');
        peer.write(packet('p', ""));
        peer.write(packet('h', std::string("X-A\0one\0", 8)));
        peer.write(packet('i', u32(0) + std::string("X-B\0two\0", 8)));
        peer.write(packet('m', u32(1) + std::string("Subject\0\0", 9)));
        peer.write(packet('b', "new body part 1 "));
        peer.write(packet('b', "and 2"));
        peer.write(packet('+', std::string("<c@local.test>\0", 15)));
        peer.write(packet('-', std::string("<b@local.test>\0", 15)));
        peer.write(packet('e', std::string("<new@remote.test>\0", 18)));
        peer.write(packet('q', std::string("held\0", 5)));
        peer.write(packet('c', ""));
    });
    auto client = fake.connect();
    ASSERT_THAT(client.negotiate(), IsOk());
    auto eom = client.end_of_message();
    ASSERT_THAT(eom, IsOk());
    EXPECT_EQ(eom->kind, ReplyKind::Continue);
    EXPECT_EQ(eom->progress, 1);
    ASSERT_EQ(eom->modifications.size(), 9u);
    EXPECT_EQ(eom->modifications[0].name, "X-A");
    EXPECT_EQ(eom->modifications[0].value, "one");
    EXPECT_EQ(eom->modifications[1].kind, Modification::Kind::InsertHeader);
    EXPECT_EQ(eom->modifications[2].index, 1u);
    EXPECT_EQ(eom->modifications[2].value, "");
    EXPECT_EQ(eom->modifications[8].name, "held");
}

TEST(MilterClient, SendMessageReportsTheOutcome) {
    FakeMilter fake([](const Peer& peer) {
        peer.negotiate(milter::kNrHeader | milter::kNrBody | milter::kNrEoh);
        for (Packet p = peer.read(); p.command != 0 && p.command != 'A'; p = peer.read()) {
            switch (p.command) {
                case 'R':
                    peer.write(p.data.starts_with("<noone")
                                   ? packet('y', std::string("550 5.1.1 No such user\0", 23))
                                   : packet('c', ""));
                    break;
                case 'M':
                case 'T':
                    peer.write(packet('c', ""));
                    break;
                case 'E':
                    peer.write(packet('h', std::string("X-Test\0yes\0", 11)));
                    peer.write(packet('a', ""));
                    break;
                default:
                    break;
            }
        }
    });
    auto client = fake.connect();
    ASSERT_THAT(client.negotiate(), IsOk());
    MessageSpec m;
    m.rcpts = {{"<noone@local.test>"}, {"<bob@local.test>"}};
    auto r = client.send_message(m, PostfixMacros::defaults({}));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->final_action(), "accept");
    EXPECT_EQ(r->decided_at, Stage::EndOfMessage);
    ASSERT_EQ(r->rcpt_replies.size(), 2u);
    EXPECT_EQ(r->rcpt_replies[0].code(), 550);
    EXPECT_EQ(r->added_header("x-test"), "yes");
}

TEST(MilterClient, MalformedRepliesAreErrors) {
    struct Case {
        std::string name;
        Stage stage;
        std::string reply;  // raw bytes the milter sends
        util::ErrorCode want;
    };
    const Case cases[] = {
        {"length zero", Stage::Mail, std::string("\0\0\0\0", 4), util::ErrorCode::InvalidInput},
        {"huge length", Stage::Mail, "\x7f\xff\xff\xff", util::ErrorCode::InvalidInput},
        {"unknown reply", Stage::Mail, packet('Z', ""), util::ErrorCode::InvalidInput},
        {"modification before end of message", Stage::Rcpt, packet('h', std::string("X\0y\0", 4)),
         util::ErrorCode::InvalidInput},
        {"reply text without NUL", Stage::Mail, packet('y', "550 5.7.1 no"),
         util::ErrorCode::InvalidInput},
        {"reply code not 4xx/5xx", Stage::Mail, packet('y', std::string("250 ok\0", 7)),
         util::ErrorCode::InvalidInput},
        {"reply code garbage", Stage::Mail, packet('y', std::string("5x0 no\0", 7)),
         util::ErrorCode::InvalidInput},
        {"header without value", Stage::EndOfMessage, packet('h', std::string("X-A\0", 4)),
         util::ErrorCode::InvalidInput},
        {"insert header without index", Stage::EndOfMessage, packet('i', "ab"),
         util::ErrorCode::InvalidInput},
        {"skip outside body", Stage::Mail, packet('s', ""), util::ErrorCode::InvalidInput},
        {"truncated packet then EOF", Stage::Mail,
         std::string("\0\0\0\x09"
                     "c",
                     5),
         util::ErrorCode::Unavailable},
        {"EOF", Stage::Mail, "", util::ErrorCode::Unavailable},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        FakeMilter fake([&c](const Peer& peer) {
            peer.negotiate(0);
            (void)peer.read();
            peer.write(c.reply);
        });
        auto client = fake.connect();
        ASSERT_THAT(client.negotiate(), IsOk());
        util::Result<StageReply> r = c.stage == Stage::Rcpt   ? client.rcpt({"<a@b>"})
                                     : c.stage == Stage::Mail ? client.mail({"<a@b>"})
                                                              : client.end_of_message();
        EXPECT_THAT(r, HasError(c.want));
    }
}

TEST(MilterClient, ReadsTimeOut) {
    FakeMilter fake([](const Peer& peer) {
        peer.negotiate(0);
        (void)peer.read();
        std::this_thread::sleep_for(700ms);  // never answers MAIL in time
    });
    auto client = fake.connect();
    ASSERT_THAT(client.negotiate(), IsOk());
    client.set_timeout(200ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THAT(client.mail({"<a@b>"}), HasError(util::ErrorCode::Timeout));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 600ms);
}

TEST(MilterClient, RejectsABadNegotiation) {
    FakeMilter fake([](const Peer& peer) {
        (void)peer.read();
        peer.write(packet('O', u32(6)));  // too short
    });
    auto client = fake.connect();
    EXPECT_THAT(client.negotiate(), HasError(util::ErrorCode::InvalidInput));
}

}  // namespace
}  // namespace mailwarden::testing
