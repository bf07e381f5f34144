// main.cpp - `mailwarden`: command line in the habits of OpenDKIM and rspamd.
//   mailwarden [-c FILE] [-p SOCKET] [--foreground] [--check-config] [--version]
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "config/loader.hpp"
#include "log/logging.hpp"
#include "milter/daemon.hpp"
#include "milter/runtime.hpp"
#include "util/version.hpp"

namespace {

// Classic double-fork detach; stdio goes to /dev/null. Returns false in the parent.
bool daemonize() {
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("mailwarden: fork");
        std::exit(1);
    }
    if (pid > 0) {
        return false;
    }
    setsid();
    if (fork() > 0) {
        _exit(0);
    }
    umask(027);
    if (chdir("/") != 0) {
        std::perror("mailwarden: chdir /");
    }
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace mailwarden;
    CLI::App app{
        "mailwarden - rate limits, SPF/DKIM/DMARC and plain-language bounces for "
        "Postfix and Sendmail"};
    std::string config_path = "/etc/mailwarden/mailwarden.yaml";
    std::string listen;
    std::string pid_file;
    bool foreground = false;
    bool check_config = false;
    bool version = false;
    app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
    app.add_option("-p,--listen", listen,
                   "socket, overriding the config: inet:PORT@HOST, inet:HOST:PORT, "
                   "inet6:PORT@HOST or unix:/path");
    app.add_option("--pid-file", pid_file, "write the daemon's pid to this file");
    app.add_flag("-f,--foreground", foreground, "do not detach; log to stderr");
    app.add_flag("-n,--check-config", check_config, "validate the configuration and exit");
    app.add_flag("-V,--version", version, "print the version and exit");
    CLI11_PARSE(app, argc, argv);

    if (version) {
        fmt::print("mailwarden {}\n", kVersion);
        return 0;
    }
    auto loaded = config::load_file(config_path);
    if (!loaded) {
        fmt::print(stderr, "mailwarden: invalid configuration:\n{}",
                   config::describe(loaded.error()));
        return 1;
    }
    if (!listen.empty()) {
        auto normalized = config::normalize_listen(listen);
        if (!normalized) {
            fmt::print(stderr, "mailwarden: --listen: {}\n", normalized.error().message);
            return 1;
        }
        listen = *normalized;
    }
    auto config = std::make_shared<const config::Config>(std::move(*loaded));
    // Block the signals the daemon waits for before any thread exists (the resolver starts
    // one in build_runtime), so that every thread inherits the block.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto backends = milter::make_backends(*config);
    auto runtime = milter::build_runtime(config, backends);
    if (!runtime) {
        fmt::print(stderr, "mailwarden: invalid configuration:\n{}\n", runtime.error().describe());
        return 1;
    }
    if (check_config) {
        fmt::print("{}: configuration OK\n", config_path);
        return 0;
    }
    if (!foreground) {
        // fork() keeps only the calling thread: drop the validated runtime (and its resolver
        // thread) first and build it again in the detached child.
        runtime->reset();
        if (!daemonize()) {
            return 0;
        }
        runtime = milter::build_runtime(config, backends);
        if (!runtime) {
            return 1;
        }
    }
    auto log_config = config->log;
    if (!foreground && log_config.target == config::LogTarget::Stderr) {
        log_config.target = config::LogTarget::Syslog;  // stderr is /dev/null once detached
    }
    log::setup(log_config);
    if (!pid_file.empty()) {
        std::ofstream(pid_file) << getpid() << '\n';
    }
    milter::DaemonOptions options;
    options.config_path = config_path;
    if (!listen.empty()) {
        options.listen_override = listen;
    }
    milter::Daemon daemon(std::move(options), std::move(backends), std::move(*runtime));
    return daemon.run();
}
