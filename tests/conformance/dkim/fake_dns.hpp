// fake_dns.hpp - loads the corpora's fake-DNS files (Mail::DKIM's t/FAKE_DNS.dat format)
// into a StaticResolver: "<name> <TXT value>", "<name> NXDOMAIN", "<name> ~~failure~~",
// "<name> \"\"" (one empty TXT record); '#' comments. Unlisted names are NXDOMAIN.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "dns/static_resolver.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dkim::testing {

/// Adds the records of `path` to `zone`; false when the file cannot be read.
inline bool load_fake_dns(const std::filesystem::path& path, dns::StaticResolver& zone) {
    std::ifstream in(path);
    if (!in) {
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::size_t space = line.find_first_of(" \t");
        if (space == std::string::npos) {
            continue;
        }
        const std::string name = line.substr(0, space);
        const std::string value(util::trim(std::string_view(line).substr(space)));
        if (value == "NXDOMAIN") {
            continue;
        }
        if (value.starts_with("~~") && value.ends_with("~~")) {
            const bool servfail = value.find("SERVFAIL") != std::string::npos;
            zone.add_failure(name, servfail ? dns::Rcode::ServFail : dns::Rcode::Timeout);
        } else if (value == "\"\"") {
            zone.add_txt(name, std::string());
        } else {
            zone.add_txt(name, value);
        }
    }
    return true;
}

}  // namespace mailwarden::auth::dkim::testing
