#include "milter/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace mailwarden::milter {

util::Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& user) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        return util::fail(util::ErrorCode::NotFound, fmt::format("no such user '{}'", user));
    }
    return std::pair{found->pw_uid, found->pw_gid};
}

util::Result<gid_t> lookup_group(const std::string& group) {
    std::vector<char> buffer(16384);
    struct group entry {};
    struct group* found = nullptr;
    if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        return util::fail(util::ErrorCode::NotFound, fmt::format("no such group '{}'", group));
    }
    return found->gr_gid;
}

util::Result<void> check_identity(const std::string& user, const std::string& group) {
    if (user.empty() || geteuid() != 0) {
        return {};
    }
    if (auto ids = lookup_user(user); !ids) {
        return util::fail(util::ErrorCode::Config, ids.error().message);
    }
    if (!group.empty()) {
        if (auto g = lookup_group(group); !g) {
            return util::fail(util::ErrorCode::Config, g.error().message);
        }
    }
    return {};
}

util::Result<void> drop_privileges(const std::string& user, const std::string& group) {
    if (user.empty() || geteuid() != 0) {
        return {};
    }
    auto ids = lookup_user(user);
    if (!ids) {
        return util::fail(util::ErrorCode::Config, ids.error().message);
    }
    auto [uid, gid] = *ids;
    if (!group.empty()) {
        auto g = lookup_group(group);
        if (!g) {
            return util::fail(util::ErrorCode::Config, g.error().message);
        }
        gid = *g;
    }
    if (uid == 0) {
        return {};  // asked to run as root: nothing to drop
    }
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
        return util::fail(
            util::ErrorCode::PermFailure,
            fmt::format("cannot switch to user '{}': {}", user, std::strerror(errno)));
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        return util::fail(util::ErrorCode::PermFailure,
                          "root privileges could be regained after the switch");
    }
    return {};
}

}  // namespace mailwarden::milter
