// diagnostic_test.cpp - parse_diagnostic on replies and diagnostics as servers write them.
//
// One named case per shape: plain, multi-line, flattened multi-line, Diagnostic-Code type
// prefixes, Postfix/Exim/qmail wrappers, codes only in the text, missing and contradictory
// codes, and garbage that must still give a Diagnostic.
#include "smtp/diagnostic.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace mailwarden::smtp {
namespace {

struct Case {
    const char* name;
    std::string input;
    std::optional<int> reply_code;
    std::string status;  // "" = none
    std::string text;
    std::string remote_host = "";
    std::string remote_ip = "";
    std::string type = "";
    std::string command = "";
    bool disagree = false;
};

const Case kCases[] = {
    {"plain reply", "550 5.1.1 User unknown", 550, "5.1.1", "User unknown"},
    {"basic code only", "554 Transaction failed", 554, "", "Transaction failed"},
    {"multi-line reply",
     "550-5.7.26 This mail has been blocked because the sender is\r\n"
     "550-5.7.26 unauthenticated. Gmail requires all senders to authenticate\r\n"
     "550 5.7.26 with either SPF or DKIM.",
     550, "5.7.26",
     "This mail has been blocked because the sender is unauthenticated. Gmail requires all "
     "senders to authenticate with either SPF or DKIM."},
    {"multi-line flattened by Postfix",
     "host gmail-smtp-in.l.google.com[142.250.27.26] said: 550-5.1.1 The email account that "
     "you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's "
     "email address for typos. 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser "
     "a1si123 - gsmtp (in reply to RCPT TO command)",
     550, "5.1.1",
     "The email account that you tried to reach does not exist. Please try double-checking "
     "the recipient's email address for typos. https://support.google.com/mail/?p=NoSuchUser "
     "a1si123 - gsmtp (in reply to RCPT TO command)",
     "gmail-smtp-in.l.google.com", "142.250.27.26", "", "RCPT"},
    {"diagnostic-code with smtp type", "smtp; 550 5.2.2 Mailbox full", 550, "5.2.2", "Mailbox full",
     "", "", "smtp"},
    {"diagnostic-code type in upper case", "SMTP; 552 Requested mail action aborted", 552, "",
     "Requested mail action aborted", "", "", "smtp"},
    {"x-unix type without code", "X-Unix; 77 permission denied", std::nullopt, "",
     "77 permission denied", "", "", "x-unix"},
    {"postfix connect failure", "connect to mx.example.net[192.0.2.25]:25: Connection timed out",
     std::nullopt, "", "connect to mx.example.net[192.0.2.25]:25: Connection timed out",
     "mx.example.net", "192.0.2.25"},
    {"exim wrapper",
     "SMTP error from remote mail server after RCPT TO:<bob@example.org>:\n"
     "    host mx.example.org [198.51.100.3]: 550 5.1.1 <bob@example.org>: Recipient address "
     "rejected: User unknown in virtual mailbox table",
     550, "5.1.1",
     "<bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
     "mx.example.org", "198.51.100.3", "", "RCPT"},
    {"qmail remote host said",
     "Remote host said: 554 delivery error: dd This user doesn't have a yahoo.com account", 554, "",
     "delivery error: dd This user doesn't have a yahoo.com account"},
    {"enhanced code in the text only", "Recipient address rejected: #5.1.1 bad address",
     std::nullopt, "5.1.1", "Recipient address rejected: #5.1.1 bad address"},
    {"enhanced code leading, no basic code", "5.4.7 Delivery expired", std::nullopt, "5.4.7",
     "Delivery expired"},
    {"contradictory classes", "550 4.7.1 Try again later", 550, "4.7.1", "Try again later", "", "",
     "", "", true},
    {"invalid codes stay text", "999 9.9.9 nonsense", std::nullopt, "", "999 9.9.9 nonsense"},
    {"empty input", "", std::nullopt, "", ""},
    {"ip address is not a code", "blocked 5.9.1.2 by policy", std::nullopt, "",
     "blocked 5.9.1.2 by policy"},
    {"number in prose is not a reply code", "message of 512 bytes refused", std::nullopt, "",
     "message of 512 bytes refused"},
    {"sendmail transcript",
     ">>> RCPT To:<al@example.jp>\n<<< 550 5.1.1 <al@example.jp>... User unknown", 550, "5.1.1",
     "<al@example.jp>... User unknown", "", "", "", "RCPT"},
    {"code after prose kept with its prefix", "Recipient address rejected: 550 no such user", 550,
     "", "Recipient address rejected: no such user"},
};

TEST(Diagnostic, ParsesRealWorldShapes) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.name);
        const Diagnostic d = parse_diagnostic(c.input);
        EXPECT_EQ(d.reply_code, c.reply_code);
        EXPECT_EQ(d.status ? d.status->to_string() : std::string(), c.status);
        EXPECT_EQ(d.remote_host, c.remote_host);
        EXPECT_EQ(d.remote_ip, c.remote_ip);
        EXPECT_EQ(d.type, c.type);
        EXPECT_EQ(d.command, c.command);
        EXPECT_EQ(d.classes_disagree, c.disagree);
        EXPECT_EQ(d.text, c.text);
    }
}

TEST(Diagnostic, PermanenceFollowsTheBasicCodeFirst) {
    EXPECT_EQ(parse_diagnostic("550 4.7.1 x").permanent(), true);
    EXPECT_EQ(parse_diagnostic("451 5.7.1 x").permanent(), false);
    EXPECT_EQ(parse_diagnostic("#4.4.7 expired").permanent(), false);
    EXPECT_EQ(parse_diagnostic("no codes at all").permanent(), std::nullopt);
}

TEST(Diagnostic, ReplyCodeGrammar) {
    struct CodeCase {
        const char* text;
        std::optional<int> want;
    };
    const CodeCase cases[] = {{"550", 550},
                              {"421-", 421},
                              {"250 ok", 250},
                              {"560 x", std::nullopt},
                              {"650 x", std::nullopt},
                              {"55", std::nullopt},
                              {"5500", std::nullopt},
                              {"abc", std::nullopt}};
    for (const CodeCase& c : cases) {
        SCOPED_TRACE(c.text);
        EXPECT_EQ(parse_reply_code(c.text), c.want);
    }
}

TEST(Diagnostic, HugeAndBinaryInputIsBounded) {
    std::string huge(1 << 20, 'x');
    huge.insert(0, "550 5.1.1 ");
    const Diagnostic d = parse_diagnostic(huge);
    EXPECT_EQ(d.reply_code, 550);
    EXPECT_LE(d.text.size(), 16u * 1024u);
    const std::string binary("\0\x01\xff 550\x00 5.1.1", 14);
    EXPECT_NO_FATAL_FAILURE((void)parse_diagnostic(binary));
}

}  // namespace
}  // namespace mailwarden::smtp
