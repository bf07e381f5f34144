// results.cpp - the Authentication-Results field value (RFC 8601 §2.2) and authserv-id
// recognition; see results.hpp.
//
// Everything that came from the message or the network (senders, d=, s=, b=, reasons) is
// sanitized: a property value that is an RFC 2045 token or a plain local@domain is written
// as is, other printable ASCII is quoted (RFC 5322 quoted-string), anything else is dropped;
// comments lose their parentheses, backslashes and control characters and are cut short.
// Property names follow the IANA "Email Authentication Methods" registry (RFC 8601, RFC
// 6008 header.b, RFC 9989 §9.1 header.from and policy.dmarc). Never throws.
#include "auth/results.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "util/ascii.hpp"

namespace mailwarden::auth {

namespace {

/// Column limit for folding (RFC 5322 §2.1.1 "SHOULD be no more than 78").
constexpr std::size_t kFoldColumns = 78;
/// Where the value starts on the first line: after "Authentication-Results: ".
constexpr std::size_t kFieldNameColumns = 24;
/// Longest comment written (untrusted reasons are cut to this).
constexpr std::size_t kMaxCommentBytes = 64;
/// Longest property value written; longer ones are dropped rather than cut (a cut domain
/// would name a different domain).
constexpr std::size_t kMaxValueBytes = 255;
/// RFC 6008 §4: header.b carries at least 8 characters of the signature, more when needed
/// to tell the message's signatures apart.
constexpr std::size_t kMinSignaturePrefix = 8;

constexpr std::string_view kTspecials = "()<>@,;:\\\"/[]?=";

bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && kTspecials.find(c) == std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

bool is_dot_atom(std::string_view text) {
    if (text.empty() || text.front() == '.' || text.back() == '.') {
        return false;
    }
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u > 0x20 && u < 0x7f &&
                std::string_view("()<>@,;:\\\"[]").find(c) == std::string_view::npos);
    });
}

/// A pvalue (RFC 8601 §2.2): token, local@domain, or quoted-string; nullopt when the text
/// cannot be written safely (non-ASCII, control characters, too long, empty).
std::optional<std::string> property_value(std::string_view text) {
    if (text.empty() || text.size() > kMaxValueBytes) {
        return std::nullopt;
    }
    if (is_token(text)) {
        return std::string(text);
    }
    if (const auto at = text.rfind('@'); at != std::string_view::npos) {
        const auto local = text.substr(0, at);
        const auto domain = text.substr(at + 1);
        if ((local.empty() || is_dot_atom(local)) && is_token(domain)) {
            return std::string(text);
        }
    }
    std::string quoted = "\"";
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            return std::nullopt;
        }
        if (c == '"' || c == '\\') {
            quoted.push_back('\\');
        }
        quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
}

/// A comment "(...)" from untrusted text: printable ASCII only, no parentheses,
/// backslashes or semicolons, whitespace collapsed, at most kMaxCommentBytes.
std::string comment(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        char w = c;
        if (c == '(') {
            w = '[';
        } else if (c == ')') {
            w = ']';
        } else if (c == '\\' || u >= 0x7f) {
            w = '?';
        } else if (c == ';') {
            w = ',';  // legal in a comment, but naive parsers split results on it
        } else if (u < 0x20) {
            w = ' ';
        }
        if (w == ' ' && (out.empty() || out.back() == ' ')) {
            continue;
        }
        out.push_back(w);
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    if (out.size() > kMaxCommentBytes) {
        out.resize(kMaxCommentBytes - 3);
        out += "...";
    }
    return out.empty() ? std::string() : "(" + out + ")";
}

/// One resinfo: "method=result" followed by comments and properties, each an atom that
/// folding never splits.
struct ResInfo {
    std::vector<std::string> atoms;

    void add(std::string atom) {
        if (!atom.empty()) {
            atoms.push_back(std::move(atom));
        }
    }
    void add_property(std::string_view name, std::string_view value) {
        if (auto v = property_value(value)) {
            atoms.push_back(fmt::format("{}={}", name, *v));
        }
    }
};

/// The shortest prefix of each signature (at least kMinSignaturePrefix) that no other
/// signature of the message shares (RFC 6008 §4).
std::vector<std::string> signature_prefixes(std::span<const dkim::SignatureResult> sigs) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sigs.size(); ++i) {
        const std::string& b = sigs[i].signature;
        std::size_t n = std::min(kMinSignaturePrefix, b.size());
        for (std::size_t j = 0; j < sigs.size() && n < b.size(); ++j) {
            const std::string& other = sigs[j].signature;
            while (j != i && n < b.size() && other != b && other.starts_with(b.substr(0, n))) {
                ++n;
            }
        }
        out.push_back(b.substr(0, n));
    }
    return out;
}

std::string authserv_value(std::string_view id) {
    if (is_token(id)) {
        return std::string(id);
    }
    return property_value(id).value_or("unknown");
}

ResInfo spf_resinfo(const spf::Outcome& spf) {
    ResInfo r;
    r.add(fmt::format("spf={}", spf::to_string(spf.result)));
    if (spf.result == spf::Result::TempError || spf.result == spf::Result::PermError) {
        r.add(comment(spf.trace.error));
    }
    if (spf.identity == spf::Identity::Helo) {
        r.add_property("smtp.helo", spf.domain);
    } else {
        r.add_property("smtp.mailfrom", spf.sender.empty() ? spf.domain : spf.sender);
    }
    return r;
}

ResInfo dkim_resinfo(const dkim::SignatureResult& sig, std::string_view b_prefix) {
    ResInfo r;
    r.add(fmt::format("dkim={}", dkim::to_string(sig.result)));
    if (sig.result == dkim::Result::Pass) {
        if (sig.key_bits > 0) {
            r.add(fmt::format("({}-bit key)", sig.key_bits));
        }
    } else {
        r.add(comment(sig.reason));
    }
    r.add_property("header.d", sig.domain);
    r.add_property("header.s", sig.selector);
    r.add_property("header.b", b_prefix);
    return r;
}

ResInfo dmarc_resinfo(const dmarc::Outcome& d) {
    ResInfo r;
    r.add(fmt::format("dmarc={}", dmarc::to_string(d.result)));
    const bool applied = (d.result == dmarc::Result::Pass || d.result == dmarc::Result::Fail) &&
                         d.record.has_value();
    if (applied) {
        std::string note = fmt::format("(p={}", dmarc::to_string(d.record->p));
        if (d.policy_tag == "sp" || d.policy_tag == "np") {
            note += fmt::format(" {}={}", d.policy_tag, dmarc::to_string(d.policy));
        }
        if (d.result == dmarc::Result::Fail) {
            note += fmt::format(" dis={}", dmarc::to_string(d.disposition));
        }
        r.add(note + ")");
    } else if (d.result == dmarc::Result::TempError || d.result == dmarc::Result::PermError) {
        r.add(comment(d.reason));
    }
    r.add_property("header.from", d.header_from);
    if (applied) {
        // RFC 9989 §9.1 policy.dmarc: the policy after the policy options (sp/np, t=y).
        const dmarc::Policy effective =
            d.record->testing ? (d.policy == dmarc::Policy::Reject ? dmarc::Policy::Quarantine
                                                                   : dmarc::Policy::None)
                              : d.policy;
        r.add_property("policy.dmarc", dmarc::to_string(effective));
    }
    return r;
}

/// Joins resinfos with ";", each on its own line (CRLF TAB), folding further between atoms
/// when a line would pass kFoldColumns.
std::string fold(std::string_view authserv_id, const std::vector<ResInfo>& resinfos) {
    std::string out = std::string(authserv_id) + ";";
    for (std::size_t i = 0; i < resinfos.size(); ++i) {
        out += "\r\n\t";
        std::size_t column = 1;
        bool first = true;
        for (const std::string& atom : resinfos[i].atoms) {
            if (!first && column + 1 + atom.size() > kFoldColumns) {
                out += "\r\n\t";
                column = 1;
            } else if (!first) {
                out += ' ';
                ++column;
            }
            out += atom;
            column += atom.size();
            first = false;
        }
        if (i + 1 < resinfos.size()) {
            out += ';';
        }
    }
    return out;
}

}  // namespace

std::string format_authentication_results(std::string_view authserv_id,
                                          const AuthSummary& summary) {
    const std::string id = authserv_value(authserv_id);
    std::vector<ResInfo> resinfos;
    if (summary.spf) {
        resinfos.push_back(spf_resinfo(*summary.spf));
    }
    if (summary.dkim_evaluated || !summary.dkim.empty()) {
        if (summary.dkim.empty()) {
            resinfos.push_back(ResInfo{{"dkim=none"}});
        }
        const auto prefixes = signature_prefixes(summary.dkim);
        for (std::size_t i = 0; i < summary.dkim.size(); ++i) {
            resinfos.push_back(dkim_resinfo(summary.dkim[i], prefixes[i]));
        }
    }
    if (summary.dmarc) {
        resinfos.push_back(dmarc_resinfo(*summary.dmarc));
    }
    if (resinfos.empty()) {
        // RFC 8601 §2.2 no-result; fits the first line after the field name.
        return id + (kFieldNameColumns + id.size() + 6 <= kFoldColumns ? "; none" : ";\r\n\tnone");
    }
    return fold(id, resinfos);
}

std::optional<std::string> authserv_id_of(std::string_view value) {
    std::size_t i = 0;
    const std::size_t n = value.size();
    // [CFWS]: whitespace, folding and (nested) comments.
    while (i < n) {
        const char c = value[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
        } else if (c == '(') {
            int depth = 0;
            for (; i < n; ++i) {
                if (value[i] == '\\') {
                    ++i;
                } else if (value[i] == '(') {
                    ++depth;
                } else if (value[i] == ')' && --depth == 0) {
                    break;
                }
            }
            if (i >= n) {
                return std::nullopt;  // unterminated comment
            }
            ++i;
        } else {
            break;
        }
    }
    if (i >= n) {
        return std::nullopt;
    }
    std::string id;
    if (value[i] == '"') {
        for (++i; i < n && value[i] != '"'; ++i) {
            if (value[i] == '\\' && i + 1 < n) {
                ++i;
            }
            if (value[i] != '\r' && value[i] != '\n') {
                id.push_back(value[i]);
            }
        }
        if (i >= n) {
            return std::nullopt;  // unterminated quoted string
        }
    } else {
        // A token (RFC 2045), read leniently up to whitespace, a comment or ';' so that a
        // malformed field claiming our id is still recognised (and removed).
        while (i < n && value[i] != ';' && value[i] != '(' && value[i] != ' ' && value[i] != '\t' &&
               value[i] != '\r' && value[i] != '\n') {
            id.push_back(value[i++]);
        }
    }
    if (id.empty()) {
        return std::nullopt;
    }
    return id;
}

bool claims_authserv_id(std::string_view field_value, std::string_view authserv_id) {
    const auto id = authserv_id_of(field_value);
    return id.has_value() && util::iequals(*id, authserv_id);
}

}  // namespace mailwarden::auth
