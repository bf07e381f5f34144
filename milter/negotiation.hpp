// negotiation.hpp - what both milter engines (libmilter's and milter/native) agree with the
// MTA and how they treat what it sends: the SMFIF_*/SMFIP_* sets asked for at option
// negotiation, the macro lists per stage, header values with or without SMFIP_HDR_LEADSPC,
// and the answer to an internal error. One place, so the two engines cannot drift apart.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "milter/session.hpp"
#include "policy/stage.hpp"

namespace mailwarden::milter {

/// The actions and protocol steps mailwarden asks for at option negotiation.
struct NegotiatedFlags {
    unsigned long actions = 0;   ///< SMFIF_*
    unsigned long protocol = 0;  ///< SMFIP_* (as the milter side keeps them)
};

/// Actions: only those mailwarden uses, of those the MTA offers. Protocol: skip the steps no
/// check of `stages` needs, ask for no reply where mailwarden never refuses, of the steps in
/// `offered_protocol` (which libmilter widens by the no-reply flags it can fake).
NegotiatedFlags negotiate_flags(policy::StageMask stages, unsigned long offered_actions,
                                unsigned long offered_protocol);

/// The actions mailwarden registers (smfiDesc.xxfi_flags) before any negotiation.
unsigned long registered_actions();

/// One SMFIR_SETSYMLIST request: the SMFIM_* stage and its space-separated macro names.
struct StageMacroList {
    int stage;
    const char* macros;
};

/// The macro lists mailwarden asks for when the MTA allows SMFIF_SETSYMLIST.
const std::array<StageMacroList, 4>& stage_macro_lists();

/// A header value as the MTA sent it, made "as written": without SMFIP_HDR_LEADSPC the MTA
/// removed the space after the colon, and it is put back (DKIM simple canonicalization).
std::string header_value_from_mta(std::string value, unsigned long protocol);

/// A header value for SMFIR_ADDHEADER/INSHEADER: CRLF folds become LF folds (the MTA writes
/// its own line ends) and, under SMFIP_HDR_LEADSPC, the usual single space is added.
std::string header_value_to_mta(const std::string& value, unsigned long protocol);

/// A reply line with each '%' doubled: libmilter passes reply text through as it is, but
/// the MTA formats it.
std::string escape_reply_percent(std::string_view line);

/// The answer to an exception in a stage: the configured on_internal_error (accept or
/// tempfail), as Postfix's milter8_comm_error would apply it.
Outcome internal_error_outcome(const SessionServices& services);

}  // namespace mailwarden::milter
