// workload.cpp - message sources and envelope patterns.
//
// .eml files are split at the first empty line; folded header lines stay folded (an MTA
// passes them so); line ends become CRLF. Envelope numbers are derived from the message
// and connection counters so that a run is reproducible.
#include "miltload/workload.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace mailwarden::bench {

MessageTemplate builtin_message() {
    MessageTemplate m;
    m.headers = {
        {"Date", "Mon, 23 Nov 2026 12:00:00 +0000"},     {"From", "Sender <sender@remote.test>"},
        {"To", "Recipient <rcpt@local.test>"},           {"Subject", "miltload test message"},
        {"Message-ID", "<miltload@remote.test>"},        {"MIME-Version", "1.0"},
        {"Content-Type", "text/plain; charset=us-ascii"}};
    for (int i = 0; m.body.size() < 2000; ++i) {
        m.body += fmt::format(
            "Line {:02} of the built-in miltload message, plain text and nothing else.\r\n", i);
    }
    return m;
}

util::Result<MessageTemplate> load_message(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return util::fail(util::ErrorCode::NotFound, "cannot read " + path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string raw = ss.str();
    // Normalize to lines without their ends.
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= raw.size()) {
        auto eol = raw.find('\n', start);
        if (eol == std::string::npos) {
            if (start < raw.size()) {
                lines.push_back(raw.substr(start));
            }
            break;
        }
        std::string line = raw.substr(start, eol - start);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(std::move(line));
        start = eol + 1;
    }
    MessageTemplate m;
    std::size_t i = 0;
    for (; i < lines.size() && !lines[i].empty(); ++i) {
        const std::string& line = lines[i];
        if ((line[0] == ' ' || line[0] == '\t') && !m.headers.empty()) {
            m.headers.back().second += "\r\n" + line;  // folded: Postfix keeps the fold
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            return util::fail(util::ErrorCode::InvalidInput,
                              fmt::format("{}:{}: not a header line", path, i + 1));
        }
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.erase(0, 1);
        }
        m.headers.emplace_back(line.substr(0, colon), std::move(value));
    }
    for (++i; i < lines.size(); ++i) {
        m.body += lines[i] + "\r\n";
    }
    return m;
}

util::Result<Workload> Workload::create(const Options& options) {
    Workload w;
    w.options_ = options;
    for (const auto& file : options.message_files) {
        auto m = load_message(file);
        if (!m) {
            return std::unexpected(m.error());
        }
        w.templates_.push_back(std::move(*m));
    }
    if (w.templates_.empty()) {
        w.templates_.push_back(builtin_message());
    }
    return w;
}

testing::ConnectInfo Workload::client(std::uint64_t n) const {
    if (options_.non_smtp) {
        // What cleanup(8) tells a non_smtpd milter about pickup and bounce(8) mail.
        return testing::ConnectInfo{
            .hostname = "localhost", .family = '4', .port = 0, .address = "127.0.0.1"};
    }
    const std::uint64_t k = n % static_cast<std::uint64_t>(options_.ips);
    testing::ConnectInfo info;
    // 10.0.0.1, 10.0.0.2, ... (k + 1 avoids the .0 network address for the first one).
    const std::uint64_t a = k + 1;
    info.address = fmt::format("10.{}.{}.{}", (a >> 16) & 255, (a >> 8) & 255, a & 255);
    info.hostname = fmt::format("client{}.bench.test", k);
    info.port = static_cast<std::uint16_t>(20000 + n % 40000);
    return info;
}

testing::MessageSpec Workload::message(std::uint64_t n) const {
    testing::MessageSpec m;
    std::string sender = options_.sender;
    if (options_.senders > 1 && !sender.empty()) {
        const auto at = sender.find('@');
        const std::string local = sender.substr(0, at);
        const std::string domain = at == std::string::npos ? "" : sender.substr(at);
        sender =
            fmt::format("{}{}{}", local, n % static_cast<std::uint64_t>(options_.senders), domain);
    }
    if (options_.logins > 0) {
        sender = fmt::format("user{}@{}", n % static_cast<std::uint64_t>(options_.logins),
                             options_.login_domain);
        m.auth_login = sender;
    }
    // Postfix's smtpd passes addresses as the client wrote them (<...>); pickup and
    // bounce(8) pass them bare, the null sender as an empty string.
    const auto envelope = [&](const std::string& address) {
        return options_.non_smtp ? address : "<" + address + ">";
    };
    m.mail_args = {envelope(sender)};
    m.rcpts.clear();
    for (int r = 0; r < options_.rcpts; ++r) {
        m.rcpts.push_back({envelope(fmt::format(
            "rcpt{}@{}", (n + static_cast<std::uint64_t>(r)) % 1000, options_.rcpt_domain))});
    }
    const auto& t = templates_[n % templates_.size()];
    m.headers = t.headers;
    m.body = t.body;
    m.queue_id = fmt::format("{:X}", 0x10000000 + n);
    m.body_chunk = options_.chunk;
    return m;
}

testing::PostfixMacros Workload::macros(const testing::ConnectInfo& client,
                                        const testing::MessageSpec& message) const {
    auto pm = testing::PostfixMacros::defaults(client, message.queue_id);
    if (options_.non_smtp) {
        // The queue id is known from the start; {mail_host}, {rcpt_host} and the mailer
        // macros are not sent (see the e2e README's table of what Postfix sends).
        pm.mail = {{"i", message.queue_id}, {"{mail_addr}", message.mail_args.front()}};
        pm.rcpt = {{"i", message.queue_id}, {"{rcpt_addr}", message.rcpts.front().front()}};
    }
    return pm;
}

}  // namespace mailwarden::bench
