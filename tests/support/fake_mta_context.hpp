// fake_mta_context.hpp - an MtaContext that records what the session asked of the MTA.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "milter/mta_context.hpp"

namespace mailwarden::testing {

class FakeMtaContext final : public milter::MtaContext {
  public:
    std::map<std::string, std::string, std::less<>> macros;
    std::optional<smtp::Reply> reply;
    std::vector<std::pair<std::string, std::string>> added_headers;
    std::vector<std::string> removed_headers;
    std::optional<std::string> quarantined;
    std::optional<std::string> replaced_body;
    bool fail_header_calls = false;

    std::optional<std::string> macro(std::string_view name) const override {
        if (auto it = macros.find(name); it != macros.end()) {
            return it->second;
        }
        return std::nullopt;
    }
    util::Result<void> set_reply(const smtp::Reply& r) override {
        reply = r;
        return {};
    }
    util::Result<void> add_header(const std::string& name, const std::string& value) override {
        if (fail_header_calls) {
            return util::fail(util::ErrorCode::Unavailable, "not negotiated");
        }
        added_headers.emplace_back(name, value);
        return {};
    }
    util::Result<void> insert_header(int, const std::string& name,
                                     const std::string& value) override {
        return add_header(name, value);
    }
    util::Result<void> remove_header(int, const std::string& name) override {
        removed_headers.push_back(name);
        return {};
    }
    util::Result<void> quarantine(const std::string& reason) override {
        quarantined = reason;
        return {};
    }
    util::Result<void> replace_body(const std::string& body) override {
        replaced_body = body;
        return {};
    }
};

}  // namespace mailwarden::testing
