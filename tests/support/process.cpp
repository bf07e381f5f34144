// process.cpp - fork/exec with everything the child needs prepared before the fork, so the
// child only calls async-signal-safe functions. The child dies with the test process
// (PR_SET_PDEATHSIG), so a crashed test leaves no daemon behind.
#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "support/ports.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace mailwarden::testing {

using Clock = std::chrono::steady_clock;

ProcessOptions command(std::filesystem::path program, std::vector<std::string> args) {
    ProcessOptions options;
    options.program = std::move(program);
    options.args = std::move(args);
    return options;
}

util::Result<Process> Process::spawn(ProcessOptions options) {
    std::vector<std::string> argv_s{options.program.string()};
    argv_s.insert(argv_s.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& [k, v] : options.env) {
            replaced = replaced || k == name;
        }
        if (!replaced) {
            env_s.emplace_back(entry);
        }
    }
    for (const auto& [k, v] : options.env) {
        env_s.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_s) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    const std::string out = options.output.empty() ? "/dev/null" : options.output.string();
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        return util::fail(util::ErrorCode::Unavailable,
                          fmt::format("open {}: {}", out, std::strerror(errno)));
    }
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const std::string cwd = options.cwd ? options.cwd->string() : std::string();
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out_fd);
        ::close(null_fd);
        return util::fail(util::ErrorCode::Unavailable,
                          fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::setpgid(0, 0);
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(out_fd, 2);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            ::_exit(126);
        }
        ::execve(argv[0], argv.data(), envp.data());
        const char msg[] = "exec failed\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(null_fd);
    Process p;
    p.options_ = std::move(options);
    p.pid_ = pid;
    return p;
}

Process::Process(Process&& other) noexcept
    : options_(std::move(other.options_)),
      pid_(std::exchange(other.pid_, -1)),
      status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        stop();
        options_ = std::move(other.options_);
        pid_ = std::exchange(other.pid_, -1);
        status_ = other.status_;
    }
    return *this;
}

Process::~Process() {
    stop();
}

std::string Process::output() const {
    return options_.output.empty() ? std::string() : read_file(options_.output);
}

bool Process::reap(int options) {
    if (pid_ < 0 || status_) {
        return true;
    }
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, options);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return true;
    }
    return r < 0 && errno == ECHILD;
}

bool Process::running() {
    return !reap(WNOHANG);
}

util::Result<void> Process::signal(int sig) {
    if (!running()) {
        return util::fail(util::ErrorCode::NotFound, "process already exited");
    }
    if (::kill(pid_, sig) != 0) {
        return util::fail(util::ErrorCode::Unavailable,
                          fmt::format("kill: {}", std::strerror(errno)));
    }
    return {};
}

std::optional<int> Process::wait(Duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (running()) {
        if (Clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

bool Process::wait_for_output(std::string_view needle, Duration timeout, std::size_t from) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const std::string out = output();
        if (out.size() > from && out.find(needle, from) != std::string::npos) {
            return true;
        }
        if (!running() || Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

bool Process::wait_for_port(std::uint16_t port, Duration timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (port_accepts(port)) {
            return true;
        }
        if (!running() || Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::optional<int> Process::stop(Duration grace) {
    if (pid_ < 0) {
        return status_;
    }
    if (running()) {
        ::kill(pid_, SIGTERM);
        if (!wait(grace)) {
            ::kill(pid_, SIGKILL);
            wait(std::chrono::seconds(5));
        }
    }
    return status_;
}

util::Result<RunResult> run(ProcessOptions options, std::chrono::milliseconds timeout) {
    std::optional<TempDir> tmp;
    if (options.output.empty()) {
        tmp.emplace("mw-run");
        options.output = tmp->path() / "output";
    }
    auto p = Process::spawn(options);
    if (!p) {
        return std::unexpected(p.error());
    }
    RunResult r;
    if (auto status = p->wait(timeout)) {
        r.status = *status;
    } else {
        p->stop(std::chrono::seconds(1));
        r.status = -1;
    }
    r.output = p->output();
    return r;
}

}  // namespace mailwarden::testing
