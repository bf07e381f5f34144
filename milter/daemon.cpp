#include "milter/daemon.hpp"

#include <libmilter/mfapi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "log/logging.hpp"
#include "milter/callbacks.hpp"
#include "milter/listener.hpp"
#include "milter/native/server.hpp"
#include "milter/privileges.hpp"
#include "policy/checks/account_check.hpp"
#include "util/version.hpp"

namespace mailwarden::milter {

namespace {

std::atomic<Daemon*> g_daemon{nullptr};

constexpr auto kSignalPoll = std::chrono::milliseconds(500);
constexpr auto kMilterThreadJoinBudget = std::chrono::milliseconds(500);

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

// Settings that only a restart changes; a reload that changes them says so.
void warn_about_restart_only_changes(const config::Config& before, const config::Config& after) {
    auto warn = [](std::string_view what) {
        spdlog::warn("reload: a change of '{}' takes effect only after a restart", what);
    };
    if (before.listen != after.listen)
        warn("listen");
    if (before.user != after.user || before.group != after.group)
        warn("user/group");
    if (before.store.backend != after.store.backend ||
        before.store.redis.host != after.store.redis.host ||
        before.store.redis.port != after.store.redis.port ||
        before.store.redis.unix_socket != after.store.redis.unix_socket ||
        before.store.redis.prefix != after.store.redis.prefix) {
        warn("store");
    }
    if (before.events.journal != after.events.journal)
        warn("events.journal");
    if (before.milter_engine != after.milter_engine)
        warn("milter_engine");
}

}  // namespace

Daemon* current_daemon() noexcept {
    return g_daemon.load();
}

Daemon::Daemon(DaemonOptions options, Backends backends, std::shared_ptr<const Runtime> runtime)
    : options_(std::move(options)), backends_(std::move(backends)) {
    listen_ = options_.listen_override.value_or(runtime->config->listen);
    runtime_.store(std::move(runtime));
    services_.runtime = [this] { return runtime_.load(); };
    services_.record = [this](std::vector<store::Event> events) {
        if (recorder_) {
            for (auto& e : events) {
                recorder_->record(std::move(e));
            }
        }
    };
    services_.clock = &clock_;
    services_.messages_in_flight = &messages_in_flight_;
    services_.draining = &draining_;
}

Daemon::~Daemon() {
    g_daemon.store(nullptr);
}

util::Result<void> Daemon::open_native_listener() {
    auto server = native::Server::open(listen_);
    if (!server) {
        return std::unexpected(server.error());
    }
    native_ = std::move(*server);
    return apply_socket_permissions(listen_, runtime_.load()->config->socket);
}

int Daemon::serve_milter() {
    if (native_) {
        const auto& config = *runtime_.load()->config;
        native::ServerOptions options;
        options.timeout = config.milter_timeout;
        return native_->serve(services_, options);
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}

util::Result<void> Daemon::open_listener() {
    const auto& config = *runtime_.load()->config;
    if (config.milter_engine == config::MilterEngine::Native) {
        return open_native_listener();
    }
    if (smfi_register(*filter_description()) != MI_SUCCESS) {
        return util::fail(util::ErrorCode::Internal, "smfi_register failed");
    }
    if (smfi_setconn(const_cast<char*>(listen_.c_str())) != MI_SUCCESS) {
        return util::fail(util::ErrorCode::Config, "smfi_setconn refused " + listen_);
    }
    const auto timeout_s = std::chrono::duration_cast<std::chrono::seconds>(config.milter_timeout);
    smfi_settimeout(static_cast<int>(timeout_s.count()));
    smfi_setbacklog(256);
    if (smfi_opensocket(true) != MI_SUCCESS) {
        return util::fail(
            util::ErrorCode::Unavailable,
            "cannot listen on " + listen_ + " (address in use, bad address, or no permission)");
    }
    if (!listen_.starts_with("unix:")) {
        const int n = enable_nodelay_on_listeners();
        spdlog::debug("TCP_NODELAY set on {} listening socket(s)", n);
    }
    return apply_socket_permissions(listen_, config.socket);
}

util::Result<void> Daemon::drop_privileges() {
    const auto& config = *runtime_.load()->config;
    // The journal's directory must stay writable after the switch.
    const auto dir = config.events.journal.parent_path();
    std::error_code ec;
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
        if (!config.user.empty() && geteuid() == 0) {
            if (auto ids = lookup_user(config.user)) {
                if (chown(dir.c_str(), ids->first, ids->second) != 0) {
                    spdlog::warn("cannot chown {} to {}: {}", dir.string(), config.user,
                                 std::strerror(errno));
                }
            }
        }
    }
    return milter::drop_privileges(config.user, config.group);
}

util::Result<void> Daemon::start_store() {
    const auto& config = *runtime_.load()->config;
    store_ = backends_.store;
    if (config.store.backend == config::StoreBackend::Redis) {
        if (auto ping = store_->ping(); !ping) {
            spdlog::warn(
                "redis at {}:{} does not answer yet ({}); events go to the journal "
                "and rate limits to the local limiter until it does",
                config.store.redis.host, config.store.redis.port, ping.error().describe());
        }
    }
    store::RecorderOptions r;
    r.queue_capacity = config.events.queue_capacity;
    r.batch_size = config.events.batch_size;
    r.flush_interval = config.events.flush_interval;
    r.journal_path = config.events.journal;
    r.journal_max_bytes = config.events.journal_max_size;
    r.retry_interval = config.events.retry_interval;
    recorder_ = std::make_unique<store::EventRecorder>(store_, r);
    if (config.control.enabled) {
        control_ = std::make_unique<ControlServer>(store_, [this] {
            const auto stats = recorder_->stats();
            return nlohmann::json{{"version", kVersion},
                                  {"listen", listen_},
                                  {"store", store_->kind()},
                                  {"messages_in_flight", messages_in_flight_.load()},
                                  {"checks", runtime_.load()->pipeline->checks().size()},
                                  {"events",
                                   {{"recorded", stats.recorded},
                                    {"written", stats.written},
                                    {"journaled", stats.journaled},
                                    {"replayed", stats.replayed},
                                    {"dropped", stats.dropped},
                                    {"queue_depth", stats.queue_depth},
                                    {"store_up", stats.store_up}}}};
        });
        control_->serve_admin(AdminBackends{
            backends_.accounts, backends_.overrides, backends_.buckets, [this] {
                auto settings = policy::account_check_settings(runtime_.load()->config->accounts);
                return settings ? settings->tracking : store::AccountTracking{};
            }});
        if (auto started = control_->start(config.control); !started) {
            // Not fatal: mail flows without it; only mailwardenctl loses its view.
            spdlog::warn("{}", started.error().describe());
            control_.reset();
        }
    }
    return {};
}

bool Daemon::reload() {
    auto loaded = config::load_file(options_.config_path);
    if (!loaded) {
        spdlog::error("reload of {} failed; keeping the running configuration:\n{}",
                      options_.config_path.string(), config::describe(loaded.error()));
        return false;
    }
    auto fresh = std::make_shared<const config::Config>(std::move(*loaded));
    auto runtime = build_runtime(fresh, backends_);
    if (!runtime) {
        spdlog::error("reload failed; keeping the running configuration: {}",
                      runtime.error().describe());
        return false;
    }
    const auto old = runtime_.load();
    warn_about_restart_only_changes(*old->config, *fresh);
    if (old->config->log.level != fresh->log.level) {
        log::set_level(fresh->log.level);
    }
    runtime_.store(*runtime);
    spdlog::info("configuration reloaded from {} ({} checks)", options_.config_path.string(),
                 (*runtime)->pipeline->checks().size());
    return true;
}

void Daemon::stop_gracefully() {
    const auto timeout = runtime_.load()->config->shutdown_timeout;
    spdlog::info(
        "stopping: new messages are tempfailed; waiting up to {} ms for {} message(s) "
        "in flight",
        timeout.count(), messages_in_flight_.load());
    // XXX: smfi_stop() must wait: once it is called, libmilter's worker pool stops reading
    // the sessions it has, so a message in flight would never get its answer.
    draining_ = true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (messages_in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (messages_in_flight_.load() > 0) {
        spdlog::warn(
            "stopping with {} message(s) still in flight; the MTA applies its "
            "milter_default_action to them",
            messages_in_flight_.load());
    }
    if (native_) {
        native_->stop();  // the listener closes; idle connections see the socket shut down
        return;
    }
    // XXX: libmilter's listener holds its lock across a poll() of up to 5 s, and
    // smfi_stop() waits for that lock: called here it would hold the exit for seconds.
    // Nothing is left to wait for (new messages are tempfailed, those in flight are done),
    // so it runs on its own thread and run() exits after a short join budget; an MTA still
    // talking to us then sees a closed connection and applies milter_default_action.
    std::thread([] { smfi_stop(); }).detach();
}

int Daemon::run() {
    // Signals are taken by this thread only: block them before any thread exists, so
    // every thread (libmilter's included) inherits the block.
    const sigset_t signals = handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    // A user that does not exist stops start-up before the socket is open: the MTA never
    // sees a milter that accepts connections and then goes away.
    const auto& identity = *runtime_.load()->config;
    if (auto r = check_identity(identity.user, identity.group); !r) {
        spdlog::critical("{}", r.error().describe());
        return 1;
    }
    if (auto r = open_listener(); !r) {
        spdlog::critical("{}", r.error().describe());
        return 1;
    }
    if (auto r = drop_privileges(); !r) {
        spdlog::critical("{}", r.error().describe());
        return 1;
    }
    if (auto r = start_store(); !r) {
        spdlog::critical("{}", r.error().describe());
        return 1;
    }
    g_daemon.store(this);

    std::atomic<bool> milter_done{false};
    std::atomic<int> milter_status{0};
    std::thread milter_thread([&] {
        milter_status = serve_milter();
        milter_done = true;
    });
    spdlog::info("mailwarden {} listening on {} (engine: {}, store: {}, {} checks)", kVersion,
                 listen_, native_ ? "native" : "libmilter", store_->kind(),
                 runtime_.load()->pipeline->checks().size());

    int exit_code = 0;
    while (true) {
        // Only this thread waits for these signals (see signal_guard.cpp); one that arrives
        // while a reload runs stays pending until the next sigtimedwait.
        timespec poll{0, std::chrono::duration_cast<std::chrono::nanoseconds>(kSignalPoll).count()};
        const int sig = sigtimedwait(&signals, nullptr, &poll);
        if (sig == SIGHUP) {
            reload();
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            stop_gracefully();
            break;
        }
        if (milter_done.load()) {
            spdlog::error("the milter listener stopped unexpectedly (status {})",
                          milter_status.load());
            exit_code = 1;
            break;
        }
    }
    const auto join_deadline = std::chrono::steady_clock::now() + kMilterThreadJoinBudget;
    while (!milter_done.load() && std::chrono::steady_clock::now() < join_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (milter_done.load()) {
        milter_thread.join();
    } else {
        milter_thread.detach();
    }
    if (native_ && !native_->wait_for_connections(kMilterThreadJoinBudget)) {
        spdlog::debug("{} milter connection(s) still closing at exit", native_->connections());
    }
    if (recorder_ && !recorder_->flush(std::chrono::seconds(5))) {
        spdlog::warn("events not yet written at exit stay in the journal for the next start");
    }
    g_daemon.store(nullptr);
    if (control_) {
        control_->stop();
    }
    recorder_.reset();  // drains to the store or the journal
    spdlog::info("stopped");
    spdlog::shutdown();
    // Connection threads of libmilter may still sit in idle sessions; leave without
    // running static destructors under them.
    std::fflush(nullptr);
    _exit(exit_code);
}

}  // namespace mailwarden::milter
