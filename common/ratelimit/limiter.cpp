// limiter.cpp - from rules and message facts to bucket requests, one store call, and the
// refusal with its reply text.
#include "ratelimit/limiter.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::ratelimit {

namespace {

bool has_part(const Rule& rule, KeyPart part) {
    return std::find(rule.key.begin(), rule.key.end(), part) != rule.key.end();
}

int severity(Action action) {
    switch (action) {
        case Action::Reject:
            return 3;
        case Action::Tempfail:
            return 2;
        case Action::Quarantine:
            return 1;
    }
    return 0;
}

// The store's override (mailwardenctl) wins over the config's, which wins over the rule.
std::vector<Window> windows_for(const Rule& rule, const MessageFacts& facts,
                                const OverrideCache* overrides) {
    if (overrides != nullptr && !facts.login.empty()) {
        if (auto windows = overrides->find(rule.name, facts.login)) {
            return *windows;
        }
    }
    if (!facts.login.empty() && !rule.overrides.empty()) {
        if (auto it = rule.overrides.find(util::to_lower(facts.login));
            it != rule.overrides.end()) {
            return it->second;
        }
    }
    return rule.windows;
}

void add_buckets(const Rule& rule, const MessageFacts& facts, const std::string& subj,
                 std::int64_t cost, const OverrideCache* overrides,
                 std::vector<AppliedLimit>& out) {
    for (const auto& w : windows_for(rule, facts, overrides)) {
        AppliedLimit a;
        a.rule = rule.name;
        a.subject = subj;
        a.window = w;
        a.counts = rule.counts;
        a.first_part = rule.key.front();
        a.action = rule.action;
        a.usage.key = bucket_key(rule.name, w.period, subj);
        a.usage.limit = w.limit;
        a.cost = cost;
        out.push_back(std::move(a));
    }
}

std::vector<BucketRequest> requests_of(const std::vector<AppliedLimit>& limits) {
    std::vector<BucketRequest> requests;
    requests.reserve(limits.size());
    for (const auto& a : limits) {
        requests.push_back(BucketRequest{a.usage.key, a.window.limit, a.window.period, a.cost});
    }
    return requests;
}

std::string whose(KeyPart part) {
    switch (part) {
        case KeyPart::Login:
            return "your account";
        case KeyPart::Sender:
            return "your address";
        case KeyPart::SenderDomain:
            return "your domain";
        case KeyPart::ClientIp:
            return "your IP address";
        case KeyPart::ClientPrefix:
            return "your network";
        case KeyPart::Recipient:
            return "this recipient";
    }
    return "you";
}

}  // namespace

bool applies(const Rule& rule, const MessageFacts& facts) {
    if (rule.scope == Scope::Inbound && facts.direction != Direction::Inbound) {
        return false;
    }
    if (rule.scope == Scope::Outbound && facts.direction != Direction::Outbound) {
        return false;
    }
    if (!facts.login.empty()) {
        for (const auto& login : rule.exempt_logins) {
            if (util::iequals(login, facts.login)) {
                return false;
            }
        }
    }
    if (facts.client_ip) {
        for (const auto& net : rule.exempt_networks) {
            if (net.contains(*facts.client_ip)) {
                return false;
            }
        }
    }
    return true;
}

Limiter::Limiter(std::vector<Rule> rules, store::BucketStore& store,
                 std::shared_ptr<OverrideCache> overrides)
    : rules_(std::move(rules)), store_(store), overrides_(std::move(overrides)) {}

std::vector<AppliedLimit> Limiter::plan(const MessageFacts& facts, Stage stage) const {
    std::vector<AppliedLimit> out;
    for (const auto& rule : rules_) {
        if (!applies(rule, facts)) {
            continue;
        }
        const bool per_recipient = has_part(rule, KeyPart::Recipient);
        const bool at_rcpt = per_recipient || rule.counts == Counts::Recipients;
        if (at_rcpt != (stage == Stage::Recipient)) {
            continue;
        }
        if (per_recipient) {
            // One bucket per distinct recipient (case-insensitively), one unit each.
            std::set<std::string> seen;
            for (const auto& rcpt : facts.recipients) {
                if (!seen.insert(util::to_lower(rcpt)).second) {
                    continue;
                }
                if (auto subj = subject(rule.key, facts, rcpt)) {
                    add_buckets(rule, facts, *subj, 1, overrides_.get(), out);
                }
            }
        } else if (auto subj = subject(rule.key, facts)) {
            const std::int64_t cost =
                stage == Stage::Recipient
                    ? std::max<std::int64_t>(1, static_cast<std::int64_t>(facts.recipients.size()))
                    : 1;
            add_buckets(rule, facts, *subj, cost, overrides_.get(), out);
        }
    }
    return out;
}

util::Result<LimitResult> Limiter::check(const MessageFacts& facts, Stage stage,
                                         util::SystemTime now) const {
    if (overrides_) {
        overrides_->refresh_if_due(now);
    }
    auto limits = plan(facts, stage);
    if (limits.empty()) {
        return LimitResult{};
    }
    const auto requests = requests_of(limits);
    auto outcome = store_.check_and_consume(requests, now);
    if (!outcome) {
        return std::unexpected(outcome.error());
    }
    for (std::size_t i = 0; i < limits.size() && i < outcome->buckets.size(); ++i) {
        limits[i].usage = std::move(outcome->buckets[i]);
    }
    return decide(std::move(limits), std::move(outcome->source), now);
}

util::Result<LimitResult> Limiter::preview(const MessageFacts& facts, util::SystemTime now) const {
    if (overrides_) {
        overrides_->refresh_if_due(now);
    }
    MessageFacts one = facts;
    if (one.recipients.empty()) {
        one.recipients.emplace_back();
    }
    auto limits = plan(one, Stage::Recipient);
    auto at_end = plan(one, Stage::EndOfMessage);
    std::move(at_end.begin(), at_end.end(), std::back_inserter(limits));
    if (limits.empty()) {
        return LimitResult{};
    }
    const auto requests = requests_of(limits);
    auto usages = store_.peek(requests, now);
    if (!usages) {
        return std::unexpected(usages.error());
    }
    for (std::size_t i = 0; i < limits.size() && i < usages->size(); ++i) {
        limits[i].usage = std::move((*usages)[i]);
    }
    return decide(std::move(limits), std::string(store_.kind()), now);
}

LimitResult Limiter::decide(std::vector<AppliedLimit> limits, std::string source,
                            util::SystemTime now) const {
    LimitResult result;
    result.source = std::move(source);
    const AppliedLimit* worst = nullptr;
    for (const auto& a : limits) {
        if (a.usage.allowed) {
            continue;
        }
        result.allowed = false;
        result.retry_after = std::max(result.retry_after, a.usage.retry_after);
        if (worst == nullptr || severity(a.action) > severity(worst->action) ||
            (severity(a.action) == severity(worst->action) &&
             a.usage.retry_after > worst->usage.retry_after)) {
            worst = &a;
        }
    }
    if (worst != nullptr) {
        result.refused = *worst;
        result.action = worst->action;
        result.retry_at = now + result.retry_after;
        if (worst->action != Action::Quarantine) {
            result.reply = reply_for(*worst, worst->action, now, result.retry_at);
        }
    }
    result.limits = std::move(limits);
    return result;
}

std::string period_words(std::chrono::milliseconds period) {
    struct Unit {
        std::int64_t ms;
        const char* name;
    };
    constexpr Unit units[] = {{604'800'000, "week"},
                              {86'400'000, "day"},
                              {3'600'000, "hour"},
                              {60'000, "minute"},
                              {1'000, "second"}};
    for (const auto& u : units) {
        if (period.count() > 0 && period.count() % u.ms == 0) {
            const auto n = period.count() / u.ms;
            return n == 1 ? std::string(u.name) : fmt::format("{} {}s", n, u.name);
        }
    }
    return fmt::format("{} milliseconds", period.count());
}

LimitReply reply_for(const AppliedLimit& limit, Action action, util::SystemTime now,
                     util::SystemTime retry_at) {
    LimitReply reply;
    if (action == Action::Reject) {
        reply.code = 550;
        reply.enhanced = "5.7.1";
    } else {
        reply.code = 451;
        reply.enhanced = "4.7.1";
    }
    const auto words = period_words(limit.window.period);
    const auto used = limit.usage.used;
    const bool messages = limit.counts == Counts::Messages;
    std::string what;
    if (limit.first_part == KeyPart::Recipient) {
        what = fmt::format("This recipient has received {} {} in the last {}", used,
                           messages ? (used == 1 ? "message" : "messages")
                                    : (used == 1 ? "delivery" : "deliveries"),
                           words);
    } else if (messages) {
        what = fmt::format("You have sent {} {} in the last {}", used,
                           used == 1 ? "message" : "messages", words);
    } else {
        what = fmt::format("You have sent mail to {} {} in the last {}", used,
                           used == 1 ? "recipient" : "recipients", words);
    }
    const std::string unit = messages ? "" : " recipients";
    // Round the retry time up to the minute, so "after 14:32" is never too early.
    const auto minute = std::chrono::ceil<std::chrono::minutes>(retry_at);
    const auto when = std::chrono::floor<std::chrono::seconds>(minute);
    const bool same_day =
        std::chrono::floor<std::chrono::days>(minute) == std::chrono::floor<std::chrono::days>(now);
    const auto time =
        same_day ? fmt::format("{:%H:%M}", when) : fmt::format("{:%Y-%m-%d %H:%M}", when);
    reply.text = fmt::format("{}; the limit for {} is {}{} per {}. Try again after {} UTC.", what,
                             whose(limit.first_part), limit.window.limit, unit, words, time);
    return reply;
}

}  // namespace mailwarden::ratelimit
