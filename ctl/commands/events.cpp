#include "commands/events.hpp"

#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"
#include "errors.hpp"
#include "store_access.hpp"
#include "util/clock.hpp"

namespace mailwarden::ctl {

namespace {

struct EventsOptions {
    std::string sender;
    std::string login;
    std::string code;
    std::string queue_id;
    std::string since;
    std::size_t limit = 50;
    bool json = false;
};

// "24h" (ago) or an RFC 3339 UTC time "2026-11-23T10:00:00Z".
util::Result<util::SystemTime> parse_since(const std::string& text) {
    if (auto ago = config::parse_duration(text)) {
        return std::chrono::system_clock::now() - *ago;
    }
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == nullptr || (*end != '\0' && *end != 'Z')) {
        return util::fail(util::ErrorCode::InvalidInput,
                          fmt::format("--since '{}': use a duration (24h, 30m) or "
                                      "YYYY-MM-DDTHH:MM:SSZ",
                                      text));
    }
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string shorten(std::string_view text, std::size_t width) {
    if (text.size() <= width) {
        return std::string(text);
    }
    return std::string(text.substr(0, width - 1)) + "~";
}

void print_table(const std::vector<store::Event>& events) {
    fmt::print("{:<19} {:<12} {:<5} {:<13} {:<11} {:<9} {:<28} {:<28} {}\n", "TIME (UTC)",
               "QUEUE ID", "STAGE", "CHECK", "ACTION", "CODE", "SENDER", "RECIPIENTS", "REPLY");
    for (const auto& e : events) {
        std::string recipients;
        for (const auto& r : e.recipients) {
            recipients += recipients.empty() ? r : "," + r;
        }
        const auto code = e.reply_code == 0 ? std::string("-")
                                            : fmt::format("{} {}", e.reply_code, e.enhanced_code);
        fmt::print("{:%Y-%m-%d %H:%M:%S} {:<12} {:<5} {:<13} {:<11} {:<9} {:<28} {:<28} {}\n",
                   std::chrono::floor<std::chrono::seconds>(e.time), shorten(e.queue_id, 12),
                   e.stage, shorten(e.check, 13), shorten(e.action, 11), code,
                   shorten(e.sender.empty() ? "<>" : e.sender, 28), shorten(recipients, 28),
                   e.reply_text.empty() ? e.reason : e.reply_text);
    }
    if (events.empty()) {
        fmt::print("(no events)\n");
    }
}

}  // namespace

void add_events_command(CLI::App& app, const std::string& config_path) {
    auto options = std::make_shared<EventsOptions>();
    auto* cmd = app.add_subcommand("events",
                                   "list recent events (rejections, tempfails, "
                                   "quarantines, ...), newest first");
    cmd->add_option("--sender", options->sender, "only this envelope sender");
    cmd->add_option("--login", options->login, "only this SASL login");
    cmd->add_option("--code", options->code, "only codes starting with this (550, 5.7, 4.7.1)");
    cmd->add_option("--queue-id", options->queue_id, "only this queue id");
    cmd->add_option("--since", options->since, "only newer events: 24h, 30m, or a UTC time");
    cmd->add_option("-n,--limit", options->limit, "at most this many events")
        ->capture_default_str();
    cmd->add_flag("--json", options->json, "print JSON (an array of event objects)");
    cmd->callback([options, &config_path] {
        store::EventQuery q;
        if (!options->sender.empty())
            q.sender = options->sender;
        if (!options->login.empty())
            q.login = options->login;
        if (!options->code.empty())
            q.code = options->code;
        if (!options->queue_id.empty())
            q.queue_id = options->queue_id;
        if (!options->since.empty()) {
            auto since = parse_since(options->since);
            if (!since) {
                throw CLI::ValidationError(since.error().message);
            }
            q.since = *since;
        }
        q.limit = options->limit;
        auto source = open_event_source(config_path);
        if (!source) {
            fail(source.error().describe());
        }
        auto events = (*source)->query(q);
        if (!events) {
            fail(fmt::format("cannot read events from {}: {}", (*source)->describe(),
                             events.error().describe()));
        }
        if (options->json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& e : *events) {
                out.push_back(store::to_json(e));
            }
            std::cout << out.dump(2) << '\n';
        } else {
            print_table(*events);
        }
    });
}

}  // namespace mailwarden::ctl
