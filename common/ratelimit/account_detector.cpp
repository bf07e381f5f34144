// account_detector.cpp - the signals of a compromised account, scored against the baseline.
#include "ratelimit/account_detector.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ratelimit/limiter.hpp"

namespace mailwarden::ratelimit {

using util::ErrorCode;

namespace {

constexpr int kMaxPoints = 100;

struct Named {
    std::string_view name;
    const SignalThreshold& threshold;
    bool multiple;  // compared with the baseline (else a share or a plain count)
};

std::vector<Named> signals_of(const DetectorSettings& s) {
    return {{"volume", s.volume, true},
            {"client_ips", s.client_ips, true},
            {"client_networks", s.client_networks, true},
            {"new_domains", s.new_domains, true},
            {"refused_recipients", s.refused_recipients, false},
            {"bounces", s.bounces, false},
            {"new_from_domains", s.new_from_domains, false}};
}

// "today" for a day, else "this hour", "this 10 minutes".
std::string when(std::string_view period) {
    return period == "day" ? std::string("today") : fmt::format("this {}", period);
}

// Fires a multiple signal: value >= min and value >= multiple x max(average, floor).
std::optional<Signal> by_multiple(std::string_view name, const SignalThreshold& t, double value,
                                  double average, std::string_view what, std::string_view period) {
    if (t.points <= 0 || value < static_cast<double>(t.min)) {
        return std::nullopt;
    }
    const double usual = std::max(average, static_cast<double>(t.floor));
    if (value < static_cast<double>(t.multiple) * usual) {
        return std::nullopt;
    }
    Signal s{std::string(name), value, usual, t.points, {}};
    if (usual > 0) {
        s.text = fmt::format("{:.0f} {} {}, {:.0f}x the usual {:.1f}", value, what, when(period),
                             value / usual, usual);
    } else {
        s.text = fmt::format("{:.0f} {} {}", value, what, when(period));
    }
    return s;
}

// Fires a share signal: part >= min and part >= percent % of total.
std::optional<Signal> by_share(std::string_view name, const SignalThreshold& t, double part,
                               double total, std::string_view text) {
    if (t.points <= 0 || total <= 0 || part < static_cast<double>(t.min)) {
        return std::nullopt;
    }
    const double share = 100.0 * part / total;
    if (share < static_cast<double>(t.percent)) {
        return std::nullopt;
    }
    Signal s{std::string(name), share, static_cast<double>(t.percent), t.points, {}};
    s.text = fmt::format("{:.0f} of {:.0f} {} ({:.0f}%)", part, total, text, share);
    return s;
}

}  // namespace

util::Result<void> validate(const DetectorSettings& s) {
    if (s.hold_score < 1 || s.hold_score > kMaxPoints) {
        return util::fail(ErrorCode::InvalidInput,
                          fmt::format("accounts.hold_score must be 1..{}", kMaxPoints));
    }
    for (const auto& n : signals_of(s)) {
        const auto& t = n.threshold;
        if (t.points < 0 || t.points > kMaxPoints) {
            return util::fail(
                ErrorCode::InvalidInput,
                fmt::format("accounts.signals.{}.points must be 0..{}", n.name, kMaxPoints));
        }
        if (n.multiple && t.points > 0 && t.multiple == 0) {
            return util::fail(
                ErrorCode::InvalidInput,
                fmt::format("accounts.signals.{}.multiple must be at least 1", n.name));
        }
        if (t.percent > 100) {
            return util::fail(ErrorCode::InvalidInput,
                              fmt::format("accounts.signals.{}.percent must be 0..100", n.name));
        }
    }
    return {};
}

Assessment assess(const store::AccountSnapshot& a, const DetectorSettings& s,
                  std::chrono::milliseconds window) {
    const auto& w = a.window;
    const auto& b = a.baseline;
    const std::string period = period_words(window);
    std::vector<std::optional<Signal>> fired;
    fired.push_back(by_multiple("volume", s.volume, static_cast<double>(w.messages),
                                b.avg(b.messages), "messages", period));
    fired.push_back(by_multiple("client_ips", s.client_ips, static_cast<double>(a.day.client_ips),
                                b.day_avg(b.client_ips), "client IPs", "day"));
    fired.push_back(by_multiple("client_networks", s.client_networks,
                                static_cast<double>(a.day.client_nets), b.day_avg(b.client_nets),
                                "client networks", "day"));
    fired.push_back(by_multiple("new_domains", s.new_domains, static_cast<double>(w.new_domains),
                                b.avg(b.new_domains), "new recipient domains", period));
    fired.push_back(by_share(
        "refused_recipients", s.refused_recipients, static_cast<double>(w.failed_recipients),
        static_cast<double>(w.recipients + w.failed_recipients), "recipients refused"));
    fired.push_back(by_share("bounces", s.bounces, static_cast<double>(w.bounces),
                             static_cast<double>(w.recipients), "recipients hard-bounced"));
    if (s.new_from_domains.points > 0 && b.messages_seen >= s.min_history_messages &&
        w.new_from_domains >= s.new_from_domains.min && w.new_from_domains > 0) {
        fired.push_back(Signal{"new_from_domains", static_cast<double>(w.new_from_domains), 0,
                               s.new_from_domains.points,
                               fmt::format("{} From: domains never used before {}",
                                           w.new_from_domains, when(period))});
    }
    Assessment out;
    for (auto& f : fired) {
        if (f) {
            out.score += f->points;
            out.signals.push_back(std::move(*f));
        }
    }
    out.hold = out.score >= s.hold_score;
    return out;
}

std::string Assessment::reason() const {
    std::string out;
    for (const auto& s : signals) {
        out += out.empty() ? s.text : "; " + s.text;
    }
    return out;
}

std::string Assessment::figures(int hold_score) const {
    nlohmann::json j;
    j["score"] = score;
    j["hold_score"] = hold_score;
    auto& list = j["signals"];
    list = nlohmann::json::object();
    for (const auto& s : signals) {
        list[s.name] = {{"value", s.value}, {"usual", s.usual}, {"points", s.points}};
    }
    return j.dump();
}

util::Result<std::optional<std::string>> record_outgoing_failures(
    store::AccountStore& accounts, std::string_view envelope_sender, std::uint64_t hard_bounces,
    const store::AccountTracking& tracking, util::SystemTime now) {
    if (envelope_sender.empty() || hard_bounces == 0) {
        return std::optional<std::string>{};
    }
    auto login = accounts.login_of(envelope_sender, now);
    if (!login) {
        return std::unexpected(login.error());
    }
    if (!*login) {
        return std::optional<std::string>{};
    }
    if (auto fed = accounts.record_bounces(**login, hard_bounces, tracking, now); !fed) {
        return std::unexpected(fed.error());
    }
    return *login;
}

}  // namespace mailwarden::ratelimit
