#include "log/logging.hpp"

#include <syslog.h>

#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

namespace mailwarden::log {

namespace {

int facility_of(std::string_view name) {
    if (name == "mail")
        return LOG_MAIL;
    if (name == "daemon")
        return LOG_DAEMON;
    if (name == "user")
        return LOG_USER;
    if (name.size() == 6 && name.starts_with("local") && name[5] >= '0' && name[5] <= '7') {
        return LOG_LOCAL0 + (name[5] - '0') * (LOG_LOCAL1 - LOG_LOCAL0);
    }
    return LOG_MAIL;
}

}  // namespace

void set_level(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level == "warning" ? "warn" : level));
    if (parsed == spdlog::level::off && level != "off") {
        parsed = spdlog::level::info;
    }
    spdlog::set_level(parsed);
}

void setup(const config::LogConfig& config) {
    std::shared_ptr<spdlog::logger> logger;
    if (config.target == config::LogTarget::Syslog) {
        logger = std::make_shared<spdlog::logger>(
            "mailwarden",
            std::make_shared<spdlog::sinks::syslog_sink_mt>(
                config.syslog_ident, LOG_PID, facility_of(config.syslog_facility), false));
        logger->set_pattern("%v");
    } else {
        logger = std::make_shared<spdlog::logger>(
            "mailwarden", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z mailwarden[%P] %l: %v");
    }
    spdlog::set_default_logger(logger);
    set_level(config.level);
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace mailwarden::log
