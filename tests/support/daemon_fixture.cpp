// daemon_fixture.cpp - start, reload and stop of the real daemon for tests.
//
// Readiness is a successful milter connect (inet and unix alike), bounded by
// Options::start_timeout; a daemon that exits or never listens gives an error carrying its
// log, so a failing test shows why.
#include "support/daemon_fixture.hpp"

#include <signal.h>

#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "support/paths.hpp"
#include "support/ports.hpp"

namespace mailwarden::testing {

std::string default_daemon_config() {
    return R"(listen: "inet:@PORT@@127.0.0.1"
store: { backend: memory }
events: { journal: @DIR@/events.journal }
spf: { enabled: false }  # hermetic: no DNS from tests that are not about SPF
dkim: { enabled: false }
dmarc: { enabled: false }
preflight: { enabled: false }
control: { enabled: false }
access_list:
  - sender: ["blocked@remote.test", "@blocked.test"]
    action: reject
    reply: "Mail from this sender is refused by policy.\nContact postmaster@local.test if this is wrong."
  - recipient: ["noone@local.test"]
    action: reject
    code: 550
    enhanced: "5.1.1"
    reply: "No such user here"
  - client: ["192.0.2.66/32"]
    action: tempfail
)";
}

std::filesystem::path daemon_binary() {
    return binary_dir() / "milter" / "mailwarden";
}
std::filesystem::path ctl_binary() {
    return binary_dir() / "ctl" / "mailwardenctl";
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    if (from.empty()) {
        return text;
    }
    for (std::size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

std::string Daemon::expand(std::string_view text) const {
    std::string out(text);
    out = replace_all(std::move(out), "@PORT@", std::to_string(port_));
    out = replace_all(std::move(out), "@DIR@", dir_.path().string());
    for (const auto& [k, v] : vars_) {
        out = replace_all(std::move(out), k, v);
    }
    return out;
}

util::Result<std::unique_ptr<Daemon>> Daemon::start(std::string_view config_template,
                                                    Options options) {
    const auto binary = daemon_binary();
    if (!std::filesystem::exists(binary)) {
        return util::fail(util::ErrorCode::NotFound,
                          fmt::format("daemon binary {} not built", binary.string()));
    }
    std::unique_ptr<Daemon> d(new Daemon());
    d->port_ = free_tcp_port();
    d->vars_ = std::move(options.vars);
    d->config_ = d->dir_.path() / "mailwarden.yaml";
    if (auto ok = d->write_config(config_template); !ok) {
        return std::unexpected(ok.error());
    }
    ProcessOptions po;
    po.program = binary;
    po.args = {"-c", d->config_.string(), "--foreground"};
    if (!options.listen.empty()) {
        d->listen_ = d->expand(options.listen);
        po.args.insert(po.args.end(), {"-p", d->listen_});
    }
    po.args.insert(po.args.end(), options.args.begin(), options.args.end());
    po.output = d->dir_.path() / "daemon.log";
    auto p = Process::spawn(std::move(po));
    if (!p) {
        return std::unexpected(p.error());
    }
    d->process_ = std::make_unique<Process>(std::move(*p));
    // Ready when a connect succeeds (works for inet and unix sockets alike).
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    bool ready = false;
    while (!ready && d->process_->running() && std::chrono::steady_clock::now() < deadline) {
        ready = MilterClient::connect(d->socket(), std::chrono::seconds(1)).has_value();
        if (!ready) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    if (!ready) {
        const auto status = d->process_->stop(std::chrono::seconds(2));
        return util::fail(
            util::ErrorCode::Unavailable,
            fmt::format("daemon did not listen on {} (exit status {}); log:\n{}", d->socket(),
                        status ? std::to_string(*status) : "none", d->log()));
    }
    return d;
}

Daemon::~Daemon() {
    stop(std::chrono::seconds(15));
}

std::string Daemon::socket() const {
    return listen_.empty() ? fmt::format("inet:{}@127.0.0.1", port_) : listen_;
}

namespace {

// MW_TEST_MILTER_ENGINE=native (set by the *_native CTest entries) runs every daemon of a
// suite with that engine: the key is appended to each config the fixture writes.
std::string with_engine_override(std::string config) {
    const char* engine = std::getenv("MW_TEST_MILTER_ENGINE");
    if (engine != nullptr && *engine != '\0' &&
        config.find("milter_engine:") == std::string::npos) {
        if (!config.empty() && config.back() != '\n') {
            config += '\n';
        }
        config += fmt::format("milter_engine: {}\n", engine);
    }
    return config;
}

}  // namespace

util::Result<void> Daemon::write_config(std::string_view config_template) {
    return write_file(config_, with_engine_override(expand(config_template)));
}

std::string Daemon::reload(std::chrono::milliseconds settle) {
    const std::size_t before = log().size();
    if (!process_->signal(SIGHUP)) {
        return {};
    }
    const auto deadline = std::chrono::steady_clock::now() + settle;
    // Wait for the daemon to log the reload's outcome ("configuration reloaded" or "reload
    // ... failed"; building the checks, the catalog included, can take a while on a loaded
    // machine), then a little for it to finish.
    const auto finished = [&] {
        const std::string now = log();
        const std::string_view added =
            now.size() > before ? std::string_view(now).substr(before) : std::string_view();
        return added.find("configuration reloaded") != std::string_view::npos ||
               added.find("reload failed") != std::string_view::npos ||
               (added.find("reload of ") != std::string_view::npos &&
                added.find(" failed") != std::string_view::npos);
    };
    while (std::chrono::steady_clock::now() < deadline && !finished()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::string now = log();
    return now.size() > before ? now.substr(before) : std::string();
}

util::Result<MilterClient> Daemon::connect() {
    auto client = MilterClient::connect(socket());
    if (!client) {
        return client;
    }
    if (auto n = client->negotiate(); !n) {
        return std::unexpected(n.error());
    }
    return client;
}

std::optional<int> Daemon::stop(std::chrono::milliseconds grace) {
    return process_ ? process_->stop(grace) : std::nullopt;
}

}  // namespace mailwarden::testing
