// control_server.hpp - the daemon's HTTP control API on loopback (cpp-httplib):
//   GET /v1/status                      version, store, messages in flight, recorder figures
//   GET /v1/events?sender=&login=&code=&queue_id=&since_ms=&until_ms=&limit=
// plus, with serve_admin(), the account and rate-limit routes of control_admin.hpp (the only
// ones that change state: POST, loopback clients only). mailwardenctl uses it when the
// events and accounts live in the daemon's embedded store.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json_fwd.hpp>

#include "config/config.hpp"
#include "milter/control_admin.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

namespace httplib {
class Server;
}

namespace mailwarden::milter {

class ControlServer {
  public:
    /// `status` builds the /v1/status document when asked.
    ControlServer(std::shared_ptr<store::Store> store, std::function<nlohmann::json()> status);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// Also serves the admin routes (call before start).
    void serve_admin(AdminBackends backends) { admin_ = std::move(backends); }
    /// Binds and serves in a thread of its own. Unavailable when the address is taken.
    util::Result<void> start(const config::ControlConfig& config);
    void stop();

  private:
    std::shared_ptr<store::Store> store_;
    std::function<nlohmann::json()> status_;
    std::optional<AdminBackends> admin_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
};

}  // namespace mailwarden::milter
