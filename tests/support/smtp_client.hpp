// smtp_client.hpp - a tiny SMTP client for end-to-end tests: reads multi-line replies
// exactly as the server sent them (so a test can compare a milter's reply line by line),
// EHLO, XCLIENT, AUTH PLAIN, MAIL, RCPT, DATA with dot-stuffing. Every read has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::testing {

/// One SMTP reply: the code and its lines as sent ("550-5.7.1 text"), without CRLF.
struct SmtpReply {
    int code = 0;
    std::vector<std::string> lines;
    /// The lines joined with CRLF (no trailing CRLF).
    std::string text() const;
};

/// The replies of one mail transaction.
struct SmtpTransaction {
    SmtpReply mail;
    std::vector<SmtpReply> rcpts;
    SmtpReply data;  ///< 354 when DATA was sent
    SmtpReply end_of_data;
    bool data_sent = false;
};

/// A plain-text SMTP connection to 127.0.0.1. Move-only; QUITs and closes on destruction.
class SmtpClient {
  public:
    static util::Result<SmtpClient> connect(
        std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    SmtpClient(SmtpClient&& other) noexcept;
    SmtpClient& operator=(SmtpClient&&) = delete;
    SmtpClient(const SmtpClient&) = delete;
    SmtpClient& operator=(const SmtpClient&) = delete;
    ~SmtpClient();

    const SmtpReply& greeting() const { return greeting_; }
    /// Sends `line` + CRLF and reads the reply.
    util::Result<SmtpReply> command(std::string_view line);
    /// EHLO `name`.
    util::Result<SmtpReply> ehlo(std::string_view name = "client.remote.test");
    /// AUTH PLAIN with `user` / `password`.
    util::Result<SmtpReply> auth_plain(std::string_view user, std::string_view password);
    /// MAIL, RCPT for each recipient, and DATA with `message` when a recipient was accepted.
    util::Result<SmtpTransaction> send(std::string_view from, const std::vector<std::string>& to,
                                       std::string_view message);

  private:
    explicit SmtpClient(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
    util::Result<SmtpReply> read_reply();
    util::Result<void> write(std::string_view bytes);

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buffer_;
    SmtpReply greeting_;
};

/// A small RFC 5322 message with CRLF line ends.
std::string make_message(std::string_view from, std::string_view to, std::string_view subject,
                         std::string_view body = "Hello.\r\n");

}  // namespace mailwarden::testing
