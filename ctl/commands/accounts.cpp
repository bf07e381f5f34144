#include "commands/accounts.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <iostream>
#include <set>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin_access.hpp"
#include "errors.hpp"
#include "policy/checks/account_check.hpp"
#include "store/admin_json.hpp"
#include "store_access.hpp"
#include "util/ascii.hpp"

extern char** environ;

namespace mailwarden::ctl {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxEventsScanned = 10'000;

util::SystemTime now() {
    return std::chrono::time_point_cast<util::SystemTime::duration>(
        std::chrono::system_clock::now());
}

Admin open_or_fail(const std::string& config_path) {
    auto admin = open_admin(config_path);
    if (!admin) {
        fail(admin.error().describe());
    }
    return std::move(*admin);
}

policy::AccountCheckSettings settings_of(const Admin& admin) {
    auto s = policy::account_check_settings(admin.config.accounts);
    return s ? *s : policy::AccountCheckSettings{};
}

std::string utc(util::SystemTime t) {
    return fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t));
}

void print_accounts(const std::vector<store::AccountSnapshot>& held) {
    if (held.empty()) {
        fmt::print("(no login is held)\n");
        return;
    }
    fmt::print("{:<32} {:<19} {:<16} {:>5} {:>6} {:>5} {:>6}  {}\n", "LOGIN", "HELD SINCE (UTC)",
               "BY", "SCORE", "MSGS", "IPS", "NEWDOM", "REASON");
    for (const auto& a : held) {
        const auto& h = a.hold ? *a.hold : store::HoldInfo{};
        fmt::print("{:<32} {:<19} {:<16} {:>5.0f} {:>6} {:>5} {:>6}  {}\n", a.login, utc(h.since),
                   h.by, h.score, a.window.messages, a.day.client_ips, a.window.new_domains,
                   h.reason);
    }
}

// Queue ids of the login's messages that the account check quarantined since `since`.
std::vector<std::string> held_queue_ids(const std::string& config_path, const std::string& login,
                                        util::SystemTime since) {
    auto source = open_event_source(config_path);
    if (!source) {
        fail(source.error().describe());
    }
    store::EventQuery q;
    q.login = login;
    q.since = since - std::chrono::minutes(1);
    q.limit = kMaxEventsScanned;
    auto events = (*source)->query(q);
    if (!events) {
        fail(fmt::format("cannot read events from {}: {}", (*source)->describe(),
                         events.error().describe()));
    }
    std::set<std::string> ids;
    for (const auto& e : *events) {
        const bool safe = !e.queue_id.empty() && e.queue_id.size() <= 64 &&
                          std::all_of(e.queue_id.begin(), e.queue_id.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c));
                          });
        if (e.check == "account" && e.action == "quarantine" && e.queue_id != "NOQUEUE" && safe) {
            ids.insert(e.queue_id);
        }
    }
    return {ids.begin(), ids.end()};
}

// Runs `argv` and waits; its exit status, or -1 when it could not be started.
int run(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
        return -1;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct ReleaseOptions {
    std::string login;
    bool run = false;
    bool json = false;
    std::string postfix_config;
};

void release(const std::string& config_path, const ReleaseOptions& o) {
    auto admin = open_or_fail(config_path);
    const auto settings = settings_of(admin);
    auto ended = admin.accounts->release(o.login, admin_name(), settings.release_grace,
                                         settings.tracking, now());
    if (!ended) {
        fail(fmt::format("cannot release {} in {}: {}", o.login, admin.where,
                         ended.error().describe()));
    }
    if (!*ended) {
        if (o.json) {
            std::cout << json{{"login", o.login}, {"released", false}}.dump(2) << '\n';
        } else {
            fmt::print("{} was not held\n", o.login);
        }
        return;
    }
    const auto ids = held_queue_ids(config_path, util::to_lower(o.login), (*ended)->since);
    std::vector<std::vector<std::string>> commands;
    for (const auto& id : ids) {
        std::vector<std::string> argv{"postsuper"};
        if (!o.postfix_config.empty()) {
            argv.push_back("-c");
            argv.push_back(o.postfix_config);
        }
        argv.push_back("-H");
        argv.push_back(id);
        commands.push_back(std::move(argv));
    }
    json report{{"login", o.login},
                {"released", true},
                {"hold", store::to_json(**ended)},
                {"queue_ids", json(ids)},
                {"commands", json::array()}};
    if (!o.json) {
        fmt::print("released {} (held since {} UTC by {}: {})\n", o.login, utc((*ended)->since),
                   (*ended)->by, (*ended)->reason);
        if (ids.empty()) {
            fmt::print("no held messages of {} found in the events\n", o.login);
        } else if (!o.run) {
            fmt::print("its held messages go back to delivery with:\n");
        }
    }
    int failures = 0;
    for (const auto& argv : commands) {
        std::string line;
        for (const auto& a : argv) {
            line += line.empty() ? a : " " + a;
        }
        json entry{{"command", line}};
        if (o.run) {
            const int status = run(argv);
            entry["exit_status"] = status;
            failures += status == 0 ? 0 : 1;
            if (!o.json) {
                fmt::print("{}  -> {}\n", line,
                           status == 0 ? "ok" : fmt::format("failed ({})", status));
            }
        } else if (!o.json) {
            fmt::print("  {}\n", line);
        }
        report["commands"].push_back(std::move(entry));
    }
    if (o.json) {
        std::cout << report.dump(2) << '\n';
    }
    if (failures > 0) {
        fail(fmt::format("{} postsuper command(s) failed", failures), 1);
    }
}

}  // namespace

void add_accounts_commands(CLI::App& app, const std::string& config_path) {
    struct ListOptions {
        std::size_t limit = 1000;
        bool json = false;
    };
    auto list = std::make_shared<ListOptions>();
    auto* accounts = app.add_subcommand(
        "accounts", "list the logins whose mail is held, with the reasons and figures");
    accounts->add_option("-n,--limit", list->limit, "at most this many")->capture_default_str();
    accounts->add_flag("--json", list->json, "print JSON (an array of accounts)");
    accounts->callback([list, &config_path] {
        auto admin = open_or_fail(config_path);
        auto held = admin.accounts->held(settings_of(admin).tracking, now(), list->limit);
        if (!held) {
            fail(fmt::format("cannot read accounts from {}: {}", admin.where,
                             held.error().describe()));
        }
        if (list->json) {
            json out = json::array();
            for (const auto& a : *held) {
                out.push_back(store::to_json(a));
            }
            std::cout << out.dump(2) << '\n';
        } else {
            print_accounts(*held);
        }
    });

    struct HoldOptions {
        std::string login;
        std::string reason = "held by an administrator";
    };
    auto hold = std::make_shared<HoldOptions>();
    auto* hold_cmd =
        app.add_subcommand("hold", "hold a login's mail (quarantine or tempfail, per config)");
    hold_cmd->add_option("LOGIN", hold->login, "the SASL login")->required();
    hold_cmd->add_option("--reason", hold->reason, "why, for the record")->capture_default_str();
    hold_cmd->callback([hold, &config_path] {
        auto admin = open_or_fail(config_path);
        store::HoldInfo h{admin_name(), hold->reason, now(), 0, "{}"};
        auto held = admin.accounts->hold(hold->login, h, settings_of(admin).tracking, now());
        if (!held) {
            fail(fmt::format("cannot hold {} in {}: {}", hold->login, admin.where,
                             held.error().describe()));
        }
        fmt::print("{} {}\n", hold->login, *held ? "is now held" : "was already held");
    });

    auto rel = std::make_shared<ReleaseOptions>();
    auto* release_cmd = app.add_subcommand(
        "release", "release a held login and print (or run) postsuper -H for its held mail");
    release_cmd->add_option("LOGIN", rel->login, "the SASL login")->required();
    release_cmd->add_flag("--run", rel->run, "run the postsuper -H commands (on the MTA host)");
    release_cmd->add_option("--postfix-config", rel->postfix_config,
                            "Postfix configuration directory for postsuper -c");
    release_cmd->add_flag("--json", rel->json, "print JSON");
    release_cmd->callback([rel, &config_path] { release(config_path, *rel); });
}

}  // namespace mailwarden::ctl
