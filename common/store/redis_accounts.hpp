// redis_accounts.hpp - account state of the compromised-account detector in Redis, shared
// by a fleet of MTAs (DESIGN.md "Redis data model": `mw:acct:{login}`, `mw:held`).
//
// Every call is one EVALSHA of scripts/account_update.lua (the message's activity folded,
// counted and read back in one atomic step), except login_of (one GET) and held (SMEMBERS,
// then one read per held login). The formulas are those of account_math.hpp, so answers
// equal MemoryAccountStore's for the same calls. Key TTLs are Redis's own (PEXPIRE on every
// write), measured in Redis time, not the caller's `now`. Thread-safe.
#pragma once

#include <string_view>

#include "store/account_store.hpp"
#include "store/redis_pool.hpp"
#include "store/redis_store.hpp"

namespace mailwarden::store {

/// The text of scripts/account_update.lua (registered as "account_update").
extern const std::string_view kAccountUpdateLua;

/// AccountStore on a RedisStore (its pool, scripts and key prefix), which must outlive it.
class RedisAccountStore final : public AccountStore {
  public:
    explicit RedisAccountStore(RedisStore& redis);

    std::string_view kind() const override { return "redis"; }
    util::Result<AccountSnapshot> record(std::string_view login, const AccountActivity& activity,
                                         const AccountTracking& tracking,
                                         util::SystemTime now) override;
    util::Result<void> record_bounces(std::string_view login, std::uint64_t count,
                                      const AccountTracking& tracking,
                                      util::SystemTime now) override;
    /// One GET; `now` is not used (the key's TTL runs in Redis time).
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
    /// Members of `mw:held` whose account still exists (an expired account is skipped).
    util::Result<std::vector<AccountSnapshot>> held(const AccountTracking& tracking,
                                                    util::SystemTime now,
                                                    std::size_t limit) override;

    /// The script's reply: its result and the account fields by name.
    struct Reply;

  private:
    // Runs the script for `op` on `login` (already normalized) with the extra ARGV after the
    // common ones; `sender_key` adds KEYS[3]. Returns the parsed reply.
    util::Result<Reply> run(std::string_view op, const std::string& login,
                            const AccountTracking& tracking, util::SystemTime now,
                            std::vector<std::string> extra, const std::string& sender_key = {});

    RedisStore& redis_;
    Script script_;
};

}  // namespace mailwarden::store
