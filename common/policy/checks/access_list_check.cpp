#include "policy/checks/access_list_check.hpp"

#include <fmt/format.h>

#include "policy/verdict.hpp"
#include "util/ascii.hpp"

namespace mailwarden::policy {

namespace {

bool ends_with_label(std::string_view name, std::string_view suffix) {
    // ".example.com" matches "mx.example.com" but not "badexample.com" or "example.com".
    return name.size() > suffix.size() && name.ends_with(suffix);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

std::string lower_address(const smtp::Address& a) {
    return util::to_lower(a.to_string());
}

class AccessListRun final : public CheckRun {
  public:
    explicit AccessListRun(const AccessListCheck& check) : check_(check) {}

    Decision on(Stage stage, Transaction& tx) override {
        if (done_) {
            return Decision::none();
        }
        const std::string sender = lower_address(tx.message.mail_from);
        const std::string recipient = lower_address(tx.current_rcpt);
        const std::string helo = util::to_lower(tx.connection.helo);
        for (const auto& rule : check_.rules()) {
            std::string matched;
            switch (rule.field) {
                case config::AccessField::Sender:
                    if (stage == Stage::MailFrom) {
                        matched = match_address(rule, sender);
                    }
                    break;
                case config::AccessField::Recipient:
                    if (stage == Stage::Rcpt) {
                        matched = match_address(rule, recipient);
                    }
                    break;
                case config::AccessField::Helo:
                    if (stage == Stage::MailFrom) {
                        for (const auto& p : rule.patterns) {
                            if (host_matches(p, helo)) {
                                matched = p;
                                break;
                            }
                        }
                    }
                    break;
                case config::AccessField::Client:
                    if (stage == Stage::MailFrom && tx.connection.client_ip) {
                        for (const auto& net : rule.networks) {
                            if (net.contains(*tx.connection.client_ip)) {
                                matched = net.to_string();
                                break;
                            }
                        }
                    }
                    break;
            }
            if (matched.empty()) {
                continue;
            }
            Decision d = check_.decide(rule, tx, matched);
            if (d.action == Action::Accept && !d.warn_only) {
                done_ = true;  // an allow ends the access list for this message
            }
            return d;
        }
        return Decision::none();
    }

  private:
    static std::string match_address(const config::AccessRule& rule, std::string_view address) {
        for (const auto& p : rule.patterns) {
            if (address_matches(p, address)) {
                return p;
            }
        }
        return {};
    }

    const AccessListCheck& check_;
    bool done_ = false;
};

}  // namespace

bool address_matches(std::string_view pattern, std::string_view address) {
    if (pattern == "<>") {
        return address.empty();
    }
    if (address.empty()) {
        return false;
    }
    const auto at = address.rfind('@');
    const std::string_view domain = at == std::string_view::npos ? "" : address.substr(at + 1);
    const std::string_view local = address.substr(0, at);
    if (pattern.front() == '@') {
        return domain == pattern.substr(1);
    }
    if (pattern.front() == '.') {
        return ends_with_label(domain, pattern);
    }
    if (pattern.back() == '@') {
        return local == pattern.substr(0, pattern.size() - 1);
    }
    if (pattern.find('@') == std::string_view::npos) {
        return domain == pattern;
    }
    return address == pattern;
}

bool host_matches(std::string_view pattern, std::string_view name) {
    if (pattern.front() == '.') {
        return ends_with_label(name, pattern);
    }
    return name == pattern;
}

AccessListCheck::AccessListCheck(std::vector<config::AccessRule> rules)
    : rules_(std::move(rules)) {}

std::unique_ptr<CheckRun> AccessListCheck::start(const Transaction& /*tx*/) const {
    return std::make_unique<AccessListRun>(*this);
}

Decision AccessListCheck::decide(const config::AccessRule& rule, const Transaction& tx,
                                 std::string_view matched) const {
    Decision d;
    d.action = rule.action;
    d.warn_only = rule.warn_only;
    d.final = rule.final;
    d.reason =
        fmt::format("rule '{}' matched {} '{}'", rule.name,
                    rule.field == config::AccessField::Client ? "network" : "pattern", matched);
    if (!is_refusal(rule.action)) {
        return d;
    }
    const bool tempfail = rule.action == Action::Tempfail;
    const int code = rule.code != 0 ? rule.code : (tempfail ? 451 : 550);
    const std::string enhanced =
        !rule.enhanced.empty() ? rule.enhanced : (code < 500 ? "4.7.1" : "5.7.1");
    std::string text = rule.reply;
    if (text.empty()) {
        text = tempfail ? "Mail from your system is deferred by local policy, try again later"
                        : "Mail refused by local policy";
    }
    const std::string sender =
        tx.message.mail_from.is_null() ? std::string("<>") : tx.message.mail_from.to_string();
    text = replace_all(std::move(text), "{sender}", sender);
    text = replace_all(std::move(text), "{recipient}", tx.current_rcpt.to_string());
    text = replace_all(std::move(text), "{client}",
                       tx.connection.client_ip ? tx.connection.client_ip->to_string() : "local");
    text = replace_all(std::move(text), "{helo}", tx.connection.helo);
    auto reply = smtp::make_reply(code, enhanced, smtp::split_reply_text(text));
    d.reply = reply ? *reply : default_reply(rule.action);
    return d;
}

}  // namespace mailwarden::policy
