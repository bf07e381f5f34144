#include "milter/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "milter/privileges.hpp"

namespace mailwarden::milter {

int enable_nodelay_on_listeners() {
    // XXX: libmilter opens the socket in smfi_opensocket() and gives no way to reach it, so
    // the listening sockets are found among our descriptors (only one listens at start-up).
    int changed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        const int fd = std::atoi(entry.path().filename().c_str());
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
            continue;
        }
        sockaddr_storage address{};
        socklen_t address_len = sizeof address;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0 ||
            (address.ss_family != AF_INET && address.ss_family != AF_INET6)) {
            continue;
        }
        const int on = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) {
            ++changed;
        }
    }
    return changed;
}

util::Result<void> apply_socket_permissions(const std::string& listen,
                                            const config::SocketConfig& socket) {
    if (!listen.starts_with("unix:")) {
        return {};
    }
    const std::string path = listen.substr(5);
    if (chmod(path.c_str(), socket.mode) != 0) {
        return util::fail(
            util::ErrorCode::PermFailure,
            fmt::format("chmod {:o} {}: {}", socket.mode, path, std::strerror(errno)));
    }
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (!socket.owner.empty()) {
        auto ids = lookup_user(socket.owner);
        if (!ids) {
            return util::fail(util::ErrorCode::Config, ids.error().message);
        }
        uid = ids->first;
    }
    if (!socket.group.empty()) {
        auto g = lookup_group(socket.group);
        if (!g) {
            return util::fail(util::ErrorCode::Config, g.error().message);
        }
        gid = *g;
    }
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
        chown(path.c_str(), uid, gid) != 0) {
        return util::fail(util::ErrorCode::PermFailure,
                          fmt::format("chown {}: {}", path, std::strerror(errno)));
    }
    return {};
}

}  // namespace mailwarden::milter
