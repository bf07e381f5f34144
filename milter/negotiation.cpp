#include "milter/negotiation.hpp"

#include <libmilter/mfapi.h>

#include "milter/macros.hpp"

namespace mailwarden::milter {

unsigned long registered_actions() {
    return SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
}

NegotiatedFlags negotiate_flags(policy::StageMask stages, unsigned long offered_actions,
                                unsigned long offered_protocol) {
    NegotiatedFlags flags;
    flags.actions = registered_actions() & offered_actions;
    unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO |
                         SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_DATA |
                         SMFIP_NR_UNKN | SMFIP_HDR_LEADSPC;
    if (!stages.has(policy::Stage::Header)) {
        want |= SMFIP_NOHDRS;
    }
    if (!stages.has(policy::Stage::EndOfHeaders)) {
        want |= SMFIP_NOEOH;
    }
    if (!stages.has(policy::Stage::Body)) {
        want |= SMFIP_NOBODY;
    }
    flags.protocol = want & offered_protocol;
    return flags;
}

const std::array<StageMacroList, 4>& stage_macro_lists() {
    static const std::array<StageMacroList, 4> lists{{
        {SMFIM_CONNECT, macros::kConnectMacros},
        {SMFIM_ENVFROM, macros::kMailMacros},
        {SMFIM_ENVRCPT, macros::kRcptMacros},
        {SMFIM_EOM, macros::kEndOfMessageMacros},
    }};
    return lists;
}

std::string header_value_from_mta(std::string value, unsigned long protocol) {
    if ((protocol & SMFIP_HDR_LEADSPC) == 0 && !value.empty()) {
        value.insert(value.begin(), ' ');
    }
    return value;
}

std::string header_value_to_mta(const std::string& value, unsigned long protocol) {
    std::string out;
    out.reserve(value.size() + 1);
    const bool lead_space = (protocol & SMFIP_HDR_LEADSPC) != 0;
    if (lead_space && (value.empty() || (value.front() != ' ' && value.front() != '\t'))) {
        out += ' ';
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
            continue;
        }
        out += value[i];
    }
    return out;
}

std::string escape_reply_percent(std::string_view line) {
    std::string escaped;
    escaped.reserve(line.size());
    for (char c : line) {
        escaped += c;
        if (c == '%') {
            escaped += '%';
        }
    }
    return escaped;
}

Outcome internal_error_outcome(const SessionServices& services) {
    const bool accept =
        services.runtime && services.runtime()->config->on_internal_error == policy::Action::Accept;
    return accept ? Outcome::Accept : Outcome::Tempfail;
}

}  // namespace mailwarden::milter
