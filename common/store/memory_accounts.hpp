// memory_accounts.hpp - account state in this process: the embedded store of a single MTA.
//
// The same semantics as RedisAccountStore (account_math.hpp; the store contract test runs
// both). Thread-safe: one mutex per call. Memory is bounded: an account past its TTL is
// the same as none and is swept (every sweep_interval of caller time); above
// max_accounts the ok accounts nearest to expiry go first, then held ones; each account's
// remembered domains and IPs are capped by AccountTracking. Contents are lost on restart.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/account_store.hpp"

namespace mailwarden::store {

/// Bounds of a MemoryAccountStore.
struct MemoryAccountOptions {
    std::size_t max_accounts = 100'000;                ///< logins tracked at most
    std::size_t max_senders = 100'000;                 ///< sender -> login entries at most
    std::chrono::milliseconds sweep_interval{60'000};  ///< caller time between sweeps
};

/// In-process AccountStore.
class MemoryAccountStore final : public AccountStore {
  public:
    explicit MemoryAccountStore(MemoryAccountOptions options = {});

    std::string_view kind() const override { return "memory"; }
    util::Result<AccountSnapshot> record(std::string_view login, const AccountActivity& activity,
                                         const AccountTracking& tracking,
                                         util::SystemTime now) override;
    util::Result<void> record_bounces(std::string_view login, std::uint64_t count,
                                      const AccountTracking& tracking,
                                      util::SystemTime now) override;
    util::Result<std::optional<std::string>> login_of(std::string_view sender,
                                                      util::SystemTime now) override;
    util::Result<std::optional<AccountSnapshot>> get(std::string_view login,
                                                     const AccountTracking& tracking,
                                                     util::SystemTime now) override;
    util::Result<bool> hold(std::string_view login, const HoldInfo& hold,
                            const AccountTracking& tracking, util::SystemTime now) override;
    util::Result<std::optional<HoldInfo>> release(std::string_view login, std::string_view by,
                                                  std::chrono::milliseconds grace,
                                                  const AccountTracking& tracking,
                                                  util::SystemTime now) override;
    util::Result<std::vector<AccountSnapshot>> held(const AccountTracking& tracking,
                                                    util::SystemTime now,
                                                    std::size_t limit) override;

    /// Accounts tracked now (including expired ones not yet swept).
    std::size_t size() const;

  private:
    struct Record {
        AccountSnapshot view;  // login, state, hold, window, day, baseline, times
        std::int64_t fold_ms = 0;
        std::int64_t day_fold_ms = 0;
        std::unordered_map<std::string, std::int64_t> domains;       // tag -> last window
        std::unordered_map<std::string, std::int64_t> from_domains;  // tag -> last window
        std::unordered_map<std::string, std::int64_t> ips;           // tag -> day
        std::unordered_map<std::string, std::int64_t> nets;          // tag -> day
        std::int64_t expires_ms = 0;
    };
    struct SenderEntry {
        std::string login;
        std::int64_t expires_ms = 0;
    };

    // The live record of `login` at now_ms, or nullptr. Called with mutex_ held.
    Record* find(const std::string& login, std::int64_t now_ms);
    Record& find_or_create(const std::string& login, const AccountTracking& t, std::int64_t now_ms);
    void sweep(std::int64_t now_ms);
    void make_room();

    MemoryAccountOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Record> accounts_;
    std::unordered_map<std::string, SenderEntry> senders_;
    std::int64_t last_sweep_ms_ = 0;
};

}  // namespace mailwarden::store
