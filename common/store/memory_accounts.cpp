// memory_accounts.cpp - account records in hash maps, rolled and folded by caller time.
#include "store/memory_accounts.hpp"

#include <algorithm>
#include <vector>

#include "store/account_math.hpp"
#include "store/event.hpp"
#include "util/ascii.hpp"

namespace mailwarden::store {

namespace math = account_math;

namespace {

util::SystemTime from_ms(std::int64_t ms) {
    return util::SystemTime{std::chrono::milliseconds(ms)};
}

std::string cut(std::string_view text, std::size_t max) {
    return std::string(text.substr(0, std::min(text.size(), max)));
}

// Counts one tag of the current window: new when never seen, distinct when not yet seen
// in this window. Remembered while the map is under `cap`. Returns {distinct, new}.
std::pair<bool, bool> see(std::unordered_map<std::string, std::int64_t>& seen,
                          const std::string& tag, std::int64_t index, std::size_t cap) {
    const auto it = seen.find(tag);
    if (it == seen.end()) {
        if (seen.size() < cap) {
            seen.emplace(tag, index);
        }
        return {true, true};
    }
    if (it->second < index) {
        it->second = index;
        return {true, false};
    }
    return {false, false};
}

}  // namespace

MemoryAccountStore::MemoryAccountStore(MemoryAccountOptions options) : options_(options) {
    options_.max_accounts = std::max<std::size_t>(options_.max_accounts, 1);
    options_.max_senders = std::max<std::size_t>(options_.max_senders, 1);
}

std::size_t MemoryAccountStore::size() const {
    std::lock_guard lock(mutex_);
    return accounts_.size();
}

namespace {

// The shared roll of one record to the window and day of now_ms (see account_math.hpp).
template <class Record>
void roll(Record& r, const AccountTracking& t, std::int64_t now_ms) {
    auto& v = r.view;
    const std::int64_t window_ms = t.window.count();
    const std::int64_t w = math::index_of(now_ms, window_ms);
    const std::int64_t d = math::index_of(now_ms, math::kDayMs);
    const bool ok = v.state == AccountState::Ok;
    if (v.window.index < w) {
        if (ok) {
            math::fold_window(v.baseline, r.fold_ms, v.window, window_ms, t.half_life.count());
        }
        math::trim_oldest(r.domains, t.known_domains);
        math::trim_oldest(r.from_domains, t.known_from_domains);
        v.window = WindowFigures{};
        v.window.index = w;
    }
    if (v.day.index < d) {
        if (ok) {
            math::fold_day(v.baseline, r.day_fold_ms, v.day, t.half_life.count());
        }
        r.ips.clear();
        r.nets.clear();
        v.day = DayFigures{};
        v.day.index = d;
    }
}

}  // namespace

MemoryAccountStore::Record* MemoryAccountStore::find(const std::string& login,
                                                     std::int64_t now_ms) {
    if (now_ms - last_sweep_ms_ >= options_.sweep_interval.count() || now_ms < last_sweep_ms_) {
        sweep(now_ms);
    }
    const auto it = accounts_.find(login);
    if (it == accounts_.end()) {
        return nullptr;
    }
    if (it->second.expires_ms <= now_ms) {
        accounts_.erase(it);
        return nullptr;
    }
    return &it->second;
}

MemoryAccountStore::Record& MemoryAccountStore::find_or_create(const std::string& login,
                                                               const AccountTracking& t,
                                                               std::int64_t now_ms) {
    if (Record* r = find(login, now_ms)) {
        return *r;
    }
    if (accounts_.size() >= options_.max_accounts) {
        make_room();
    }
    Record& r = accounts_[login];
    r.view.login = login;
    r.view.first_seen = from_ms(now_ms);
    r.view.window.index = math::index_of(now_ms, t.window.count());
    r.view.day.index = math::index_of(now_ms, math::kDayMs);
    return r;
}

void MemoryAccountStore::sweep(std::int64_t now_ms) {
    std::erase_if(accounts_, [now_ms](const auto& e) { return e.second.expires_ms <= now_ms; });
    std::erase_if(senders_, [now_ms](const auto& e) { return e.second.expires_ms <= now_ms; });
    last_sweep_ms_ = now_ms;
}

void MemoryAccountStore::make_room() {
    // Drop an eighth: ok accounts nearest to expiry first, then held ones. O(n) per
    // max_accounts/8 new accounts.
    std::vector<std::pair<std::pair<int, std::int64_t>, const std::string*>> order;
    order.reserve(accounts_.size());
    for (const auto& [login, r] : accounts_) {
        order.push_back({{r.view.state == AccountState::Held ? 1 : 0, r.expires_ms}, &login});
    }
    const std::size_t drop = std::max<std::size_t>(1, order.size() / 8);
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                     order.end());
    std::vector<std::string> victims;
    for (std::size_t i = 0; i < drop; ++i) {
        victims.push_back(*order[i].second);
    }
    for (const auto& login : victims) {
        accounts_.erase(login);
    }
}

util::Result<AccountSnapshot> MemoryAccountStore::record(std::string_view login_text,
                                                         const AccountActivity& a,
                                                         const AccountTracking& t,
                                                         util::SystemTime now) {
    auto login = checked_login(login_text, t);
    if (!login) {
        return std::unexpected(login.error());
    }
    if (auto v = validate_activity(a); !v) {
        return std::unexpected(v.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    Record& r = find_or_create(*login, t, now_ms);
    roll(r, t, now_ms);
    auto& v = r.view;
    v.baseline.messages_seen += a.messages;
    v.window.messages += a.messages;
    v.window.recipients += a.recipients;
    v.window.failed_recipients += a.failed_recipients;
    v.window.domains += a.untracked_domains;
    v.window.new_domains += a.untracked_domains;
    for (const auto& tag : a.recipient_domain_tags) {
        const auto [distinct, fresh] = see(r.domains, tag, v.window.index, t.known_domains);
        v.window.domains += distinct ? 1 : 0;
        v.window.new_domains += fresh ? 1 : 0;
    }
    for (const auto& tag : a.from_domain_tags) {
        const auto [distinct, fresh] =
            see(r.from_domains, tag, v.window.index, t.known_from_domains);
        (void)distinct;
        v.window.new_from_domains += fresh ? 1 : 0;
    }
    if (!a.client_ip_tag.empty()) {
        v.day.client_ips += see(r.ips, a.client_ip_tag, v.day.index, t.tracked_client_ips).first;
    }
    if (!a.client_net_tag.empty()) {
        v.day.client_nets += see(r.nets, a.client_net_tag, v.day.index, t.tracked_client_ips).first;
    }
    v.last_seen = now;
    const auto ttl = v.state == AccountState::Held ? t.held_ttl : t.idle_ttl;
    r.expires_ms = now_ms + ttl.count();
    if (!a.sender.empty()) {
        if (senders_.size() >= options_.max_senders &&
            !senders_.contains(util::to_lower(a.sender))) {
            sweep(now_ms);
            if (senders_.size() >= options_.max_senders) {
                senders_.erase(senders_.begin());
            }
        }
        senders_[util::to_lower(a.sender)] = SenderEntry{*login, now_ms + t.sender_ttl.count()};
    }
    return v;
}

util::Result<void> MemoryAccountStore::record_bounces(std::string_view login_text,
                                                      std::uint64_t count, const AccountTracking& t,
                                                      util::SystemTime now) {
    auto login = checked_login(login_text, t);
    if (!login) {
        return std::unexpected(login.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    Record* r = find(*login, now_ms);
    if (r == nullptr) {
        return {};
    }
    roll(*r, t, now_ms);
    r->view.window.bounces += count;
    return {};
}

util::Result<std::optional<std::string>> MemoryAccountStore::login_of(std::string_view sender,
                                                                      util::SystemTime now) {
    std::lock_guard lock(mutex_);
    const auto it = senders_.find(util::to_lower(sender));
    if (it == senders_.end() || it->second.expires_ms <= to_unix_ms(now)) {
        return std::optional<std::string>{};
    }
    return std::optional<std::string>(it->second.login);
}

util::Result<std::optional<AccountSnapshot>> MemoryAccountStore::get(std::string_view login_text,
                                                                     const AccountTracking& t,
                                                                     util::SystemTime now) {
    auto login = checked_login(login_text, t);
    if (!login) {
        return std::unexpected(login.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    Record* r = find(*login, now_ms);
    if (r == nullptr) {
        return std::optional<AccountSnapshot>{};
    }
    Record copy = *r;  // a view: the stored record is not rolled
    roll(copy, t, now_ms);
    return std::optional<AccountSnapshot>(std::move(copy.view));
}

util::Result<bool> MemoryAccountStore::hold(std::string_view login_text, const HoldInfo& hold,
                                            const AccountTracking& t, util::SystemTime now) {
    auto login = checked_login(login_text, t);
    if (!login) {
        return std::unexpected(login.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    Record& r = find_or_create(*login, t, now_ms);
    roll(r, t, now_ms);
    if (r.view.state == AccountState::Held) {
        return false;
    }
    r.view.state = AccountState::Held;
    HoldInfo h = hold;
    h.reason = cut(h.reason, kMaxHoldReasonBytes);
    h.figures = cut(h.figures, kMaxHoldFiguresBytes);
    h.by = cut(h.by, kMaxLoginBytes);
    h.since = now;  // the store's time, as in account_update.lua
    r.view.hold = std::move(h);
    r.expires_ms = now_ms + t.held_ttl.count();
    return true;
}

util::Result<std::optional<HoldInfo>> MemoryAccountStore::release(std::string_view login_text,
                                                                  std::string_view by,
                                                                  std::chrono::milliseconds grace,
                                                                  const AccountTracking& t,
                                                                  util::SystemTime now) {
    auto login = checked_login(login_text, t);
    if (!login) {
        return std::unexpected(login.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    Record* r = find(*login, now_ms);
    if (r == nullptr || r->view.state != AccountState::Held) {
        return std::optional<HoldInfo>{};
    }
    roll(*r, t, now_ms);
    auto ended = std::move(r->view.hold);
    auto& v = r->view;
    v.state = AccountState::Ok;
    v.hold.reset();
    v.release_grace_until = now + std::max(grace, std::chrono::milliseconds(0));
    v.released_by = cut(by, kMaxLoginBytes);
    v.released_at = now;
    const auto w = v.window.index;
    const auto d = v.day.index;
    v.window = WindowFigures{};
    v.window.index = w;
    v.day = DayFigures{};
    v.day.index = d;
    r->ips.clear();
    r->nets.clear();
    r->expires_ms = now_ms + t.idle_ttl.count();
    return ended;
}

util::Result<std::vector<AccountSnapshot>> MemoryAccountStore::held(const AccountTracking& t,
                                                                    util::SystemTime now,
                                                                    std::size_t limit) {
    if (auto v = validate_tracking(t); !v) {
        return std::unexpected(v.error());
    }
    const std::int64_t now_ms = to_unix_ms(now);
    std::lock_guard lock(mutex_);
    std::vector<AccountSnapshot> out;
    for (const auto& [login, r] : accounts_) {
        if (out.size() >= limit) {
            break;
        }
        if (r.view.state != AccountState::Held || r.expires_ms <= now_ms) {
            continue;
        }
        Record copy = r;
        roll(copy, t, now_ms);
        out.push_back(std::move(copy.view));
    }
    return out;
}

}  // namespace mailwarden::store
