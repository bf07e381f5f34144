// smtp_client.cpp - the SMTP client of the end-to-end tests.
//
// Replies are read line by line with a deadline and kept verbatim, continuation lines
// included, so a test can compare a milter's multi-line reply exactly as Postfix relayed it.
// DATA is dot-stuffed; AUTH PLAIN is the only mechanism (the private Postfix offers it).
#include "support/smtp_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace mailwarden::testing {

using util::ErrorCode;
using util::fail;

namespace {

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                kAlphabet[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    }
    return out;
}

}  // namespace

std::string SmtpReply::text() const {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) {
            out += "\r\n";
        }
        out += line;
    }
    return out;
}

util::Result<SmtpClient> SmtpClient::connect(std::uint16_t port,
                                             std::chrono::milliseconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(ErrorCode::Unavailable, "socket failed");
    }
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(ErrorCode::Unavailable,
                    fmt::format("connect 127.0.0.1:{}: {}", port, std::strerror(err)));
    }
    SmtpClient client(fd, timeout);
    auto greeting = client.read_reply();
    if (!greeting) {
        return std::unexpected(greeting.error());
    }
    client.greeting_ = *greeting;
    return client;
}

SmtpClient::SmtpClient(SmtpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)),
      greeting_(std::move(other.greeting_)) {}

SmtpClient::~SmtpClient() {
    if (fd_ >= 0) {
        (void)write("QUIT\r\n");
        ::close(fd_);
    }
}

util::Result<void> SmtpClient::write(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail(ErrorCode::Unavailable,
                        fmt::format("smtp write: {}", std::strerror(errno)));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

util::Result<SmtpReply> SmtpClient::read_reply() {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    SmtpReply reply;
    for (;;) {
        const auto eol = buffer_.find("\r\n");
        if (eol != std::string::npos) {
            std::string line = buffer_.substr(0, eol);
            buffer_.erase(0, eol + 2);
            if (line.size() < 3) {
                return fail(ErrorCode::InvalidInput, "short SMTP reply line: " + line);
            }
            reply.code = std::atoi(line.substr(0, 3).c_str());
            const bool more = line.size() > 3 && line[3] == '-';
            reply.lines.push_back(std::move(line));
            if (!more) {
                return reply;
            }
            continue;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd p{fd_, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
            return fail(ErrorCode::Timeout, "SMTP reply timed out");
        }
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            return fail(ErrorCode::Unavailable, "SMTP server closed the connection");
        }
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

util::Result<SmtpReply> SmtpClient::command(std::string_view line) {
    if (auto ok = write(std::string(line) + "\r\n"); !ok) {
        return std::unexpected(ok.error());
    }
    return read_reply();
}

util::Result<SmtpReply> SmtpClient::ehlo(std::string_view name) {
    return command(fmt::format("EHLO {}", name));
}

util::Result<SmtpReply> SmtpClient::auth_plain(std::string_view user, std::string_view password) {
    std::string token;
    token.push_back('\0');
    token.append(user);
    token.push_back('\0');
    token.append(password);
    return command("AUTH PLAIN " + base64(token));
}

util::Result<SmtpTransaction> SmtpClient::send(std::string_view from,
                                               const std::vector<std::string>& to,
                                               std::string_view message) {
    SmtpTransaction t;
    auto mail = command(fmt::format("MAIL FROM:<{}>", from));
    if (!mail) {
        return std::unexpected(mail.error());
    }
    t.mail = *mail;
    if (mail->code / 100 != 2) {
        (void)command("RSET");
        return t;
    }
    bool any = false;
    for (const auto& rcpt : to) {
        auto r = command(fmt::format("RCPT TO:<{}>", rcpt));
        if (!r) {
            return std::unexpected(r.error());
        }
        any = any || r->code / 100 == 2;
        t.rcpts.push_back(*r);
    }
    if (!any) {
        (void)command("RSET");
        return t;
    }
    auto data = command("DATA");
    if (!data) {
        return std::unexpected(data.error());
    }
    t.data = *data;
    if (data->code != 354) {
        return t;
    }
    t.data_sent = true;
    std::string stuffed;
    std::size_t start = 0;
    while (start < message.size()) {
        auto eol = message.find("\r\n", start);
        const auto end = eol == std::string_view::npos ? message.size() : eol;
        const auto line = message.substr(start, end - start);
        if (!line.empty() && line.front() == '.') {
            stuffed.push_back('.');
        }
        stuffed.append(line).append("\r\n");
        start = eol == std::string_view::npos ? message.size() : eol + 2;
    }
    stuffed.append(".\r\n");
    if (auto ok = write(stuffed); !ok) {
        return std::unexpected(ok.error());
    }
    auto end = read_reply();
    if (!end) {
        return std::unexpected(end.error());
    }
    t.end_of_data = *end;
    return t;
}

std::string make_message(std::string_view from, std::string_view to, std::string_view subject,
                         std::string_view body) {
    return fmt::format(
        "From: <{}>\r\nTo: <{}>\r\nSubject: {}\r\nMessage-ID: <{}.{}@remote.test>\r\n"
        "Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n{}",
        from, to, subject, ::getpid(), std::chrono::steady_clock::now().time_since_epoch().count(),
        body);
}

}  // namespace mailwarden::testing
