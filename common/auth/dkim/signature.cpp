// signature.cpp - DKIM-Signature parsing and validation (RFC 6376 §3.5, §6.1.1).
#include "auth/dkim/signature.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <limits>

#include "auth/dkim/base64.hpp"
#include "auth/dkim/tag_list.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {

namespace {

using Unexpected = std::unexpected<std::string>;

// 1*DIGIT; values past 2^64-1 saturate (l= allows 76 digits, RFC 6376 §3.5).
std::optional<std::uint64_t> parse_number(std::string_view digits) {
    if (digits.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
            value = std::numeric_limits<std::uint64_t>::max();
        } else {
            value = value * 10 + d;
        }
    }
    return value;
}

std::optional<Canonicalization> parse_canon(std::string_view text) {
    if (util::iequals(text, "simple")) {
        return Canonicalization::Simple;
    }
    if (util::iequals(text, "relaxed")) {
        return Canonicalization::Relaxed;
    }
    return std::nullopt;
}

// dkim-quoted-printable (RFC 6376 §2.11): "=XX" hex escapes; folding whitespace ignored.
std::optional<std::string> decode_dkim_qp(std::string_view text) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        c = util::to_lower(c);
        return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (is_fws(c)) {
            continue;
        }
        if (c != '=') {
            out += c;
            continue;
        }
        if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
        i += 2;
    }
    return out;
}

// RFC 5322 field-name: printable US-ASCII except ":".
bool is_field_name(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7E || c == ':') {
            return false;
        }
    }
    return true;
}

std::string format_time(std::uint64_t seconds) {
    const auto max_time = static_cast<std::uint64_t>(253402300799);  // 9999-12-31T23:59:59Z
    if (seconds > max_time) {
        return fmt::format("{} (seconds since 1970)", seconds);
    }
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(seconds)));
}

}  // namespace

std::string_view to_string(Algorithm algorithm) noexcept {
    switch (algorithm) {
        case Algorithm::RsaSha1:
            return "rsa-sha1";
        case Algorithm::RsaSha256:
            return "rsa-sha256";
        case Algorithm::Ed25519Sha256:
            return "ed25519-sha256";
    }
    return "rsa-sha256";
}

std::string_view to_string(HashAlgorithm hash) noexcept {
    return hash == HashAlgorithm::Sha1 ? "sha1" : "sha256";
}

std::string_view to_string(KeyType type) noexcept {
    return type == KeyType::Rsa ? "rsa" : "ed25519";
}

HashAlgorithm hash_of(Algorithm algorithm) noexcept {
    return algorithm == Algorithm::RsaSha1 ? HashAlgorithm::Sha1 : HashAlgorithm::Sha256;
}

KeyType key_type_of(Algorithm algorithm) noexcept {
    return algorithm == Algorithm::Ed25519Sha256 ? KeyType::Ed25519 : KeyType::Rsa;
}

bool is_valid_dns_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) {
            return false;
        }
    }
    return label > 0;
}

SignatureIdentity peek_identity(std::string_view value) {
    // Lenient on purpose: the result of a broken signature should still name its domain.
    SignatureIdentity id;
    bool seen_d = false, seen_s = false, seen_i = false, seen_a = false, seen_b = false;
    std::size_t pos = 0;
    while (pos < value.size()) {
        std::size_t end = value.find(';', pos);
        if (end == std::string_view::npos) {
            end = value.size();
        }
        const std::string_view spec = value.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t eq = spec.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string_view name = trim_fws(spec.substr(0, eq));
        const std::string_view v = trim_fws(spec.substr(eq + 1));
        constexpr std::size_t kMaxShown = 255;  // a result is not a copy of the input
        auto take = [&](bool& seen, std::string& out, bool strip) {
            if (!seen) {
                seen = true;
                out = strip ? strip_fws(v.substr(0, 4 * kMaxShown)) : std::string(v);
                if (out.size() > kMaxShown) {
                    out.resize(kMaxShown);
                }
            }
        };
        if (name == "d") {
            take(seen_d, id.domain, false);
            id.domain = util::to_lower(id.domain);
        } else if (name == "s") {
            take(seen_s, id.selector, false);
        } else if (name == "i") {
            take(seen_i, id.identity, false);
        } else if (name == "a") {
            take(seen_a, id.algorithm, false);
        } else if (name == "b") {
            take(seen_b, id.signature, true);
        }
    }
    if (!seen_i && !id.domain.empty()) {
        id.identity = "@" + id.domain;
    }
    return id;
}

std::expected<Signature, std::string> parse_signature(std::string_view value) {
    auto parsed = parse_tag_list(value);
    if (!parsed) {
        return Unexpected("signature syntax error: " + parsed.error());
    }
    const TagList& tags = *parsed;
    // RFC 6376 §6.1.1: these tags are required.
    for (const std::string_view required : {"v", "a", "b", "bh", "d", "h", "s"}) {
        if (!tags.find(required)) {
            return Unexpected(fmt::format("signature has no {}= tag", required));
        }
    }
    Signature sig;
    // RFC 6376 §3.5 v=: "1" is the only version.
    if (*tags.find("v") != "1") {
        return Unexpected(fmt::format("unsupported signature version v={}", *tags.find("v")));
    }
    sig.algorithm_text = util::to_lower(*tags.find("a"));
    if (sig.algorithm_text == "rsa-sha256") {
        sig.algorithm = Algorithm::RsaSha256;
    } else if (sig.algorithm_text == "ed25519-sha256") {  // RFC 8463 §3
        sig.algorithm = Algorithm::Ed25519Sha256;
    } else if (sig.algorithm_text == "rsa-sha1") {  // RFC 8301 §3.1: the verifier decides
        sig.algorithm = Algorithm::RsaSha1;
    } else {
        return Unexpected(fmt::format("unsupported algorithm a={}", sig.algorithm_text));
    }

    const Tag& b_tag = *tags.tag("b");
    sig.b_text = strip_fws(b_tag.value);
    auto b = decode_base64(b_tag.value);
    if (!b || b->empty()) {
        return Unexpected(b ? "b= is empty" : "b= is not valid base64");
    }
    if (b->size() > kMaxSignatureOctets) {
        return Unexpected(fmt::format("b= is longer than any signature ({} octets)", b->size()));
    }
    sig.b = std::move(*b);
    auto bh = decode_base64(*tags.find("bh"));
    if (!bh || bh->empty()) {
        return Unexpected(bh ? "bh= is empty" : "bh= is not valid base64");
    }
    sig.bh = std::move(*bh);

    if (const auto c = tags.find("c")) {
        const std::size_t slash = c->find('/');
        const auto header = parse_canon(c->substr(0, slash));
        const auto body = slash == std::string_view::npos
                              ? std::optional<Canonicalization>(Canonicalization::Simple)
                              : parse_canon(c->substr(slash + 1));
        if (!header || !body) {
            return Unexpected(fmt::format("unsupported canonicalization c={}", *c));
        }
        sig.header_canon = *header;
        sig.body_canon = *body;
    }

    sig.domain = util::to_lower(*tags.find("d"));
    if (!is_valid_dns_name(sig.domain)) {
        return Unexpected(fmt::format("d= is not a domain name ({})", sig.domain));
    }
    sig.selector = std::string(*tags.find("s"));
    if (!is_valid_dns_name(sig.selector)) {
        return Unexpected("s= is not a valid selector");
    }

    // RFC 6376 §3.5 h=: colon-separated field names; §6.1.1: From must be signed.
    bool has_from = false;
    for (const std::string_view name : util::split(*tags.find("h"), ':')) {
        const std::string_view field = trim_fws(name);
        if (!is_field_name(field)) {
            return Unexpected("h= has an empty or invalid header field name");
        }
        has_from = has_from || util::iequals(field, "from");
        sig.headers.emplace_back(field);
    }
    if (!has_from) {
        return Unexpected("h= does not include From");
    }

    // RFC 6376 §3.5 i=: the domain of the AUID is d= or a subdomain of it.
    if (const auto i = tags.find("i")) {
        sig.identity = std::string(*i);
        const auto decoded = decode_dkim_qp(*i);
        const std::size_t at = decoded ? decoded->rfind('@') : std::string::npos;
        if (at == std::string::npos) {
            return Unexpected("i= is not an identity (no @domain)");
        }
        sig.identity_domain = util::to_lower(std::string_view(*decoded).substr(at + 1));
        const bool within =
            sig.identity_domain == sig.domain ||
            (sig.identity_domain.size() > sig.domain.size() &&
             sig.identity_domain.ends_with(sig.domain) &&
             sig.identity_domain[sig.identity_domain.size() - sig.domain.size() - 1] == '.');
        if (!within) {
            return Unexpected(
                fmt::format("i= domain {} is not within d={}", sig.identity_domain, sig.domain));
        }
    } else {
        sig.identity = "@" + sig.domain;
        sig.identity_domain = sig.domain;
    }

    if (const auto l = tags.find("l")) {
        sig.length = parse_number(*l);
        if (!sig.length) {
            return Unexpected("l= is not a number");
        }
    }
    // RFC 6376 §3.5 q=: a colon-separated list; dns/txt is the only method defined.
    if (const auto q = tags.find("q")) {
        bool dns_txt = false;
        for (const std::string_view method : util::split(*q, ':')) {
            dns_txt = dns_txt || util::iequals(trim_fws(method), "dns/txt");
        }
        if (!dns_txt) {
            return Unexpected(fmt::format("unsupported query method q={}", *q));
        }
    }
    if (const auto t = tags.find("t")) {
        sig.timestamp = parse_number(*t);
        if (!sig.timestamp) {
            return Unexpected("t= is not a number");
        }
    }
    if (const auto x = tags.find("x")) {
        sig.expiration = parse_number(*x);
        if (!sig.expiration) {
            return Unexpected("x= is not a number");
        }
        // RFC 6376 §3.5 x=: MUST be greater than t=.
        if (sig.timestamp && *sig.expiration < *sig.timestamp) {
            return Unexpected("x= is before t=");
        }
    }
    // RFC 6376 §3.7: the b= value is emptied (with the whitespace around it), the rest of
    // the field is hashed exactly as received.
    sig.value_without_b = std::string(value.substr(0, b_tag.value_begin));
    sig.value_without_b.append(value.substr(b_tag.spec_end));
    return sig;
}

std::string check_times(const Signature& signature, std::chrono::system_clock::time_point now,
                        std::chrono::seconds clock_skew) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    const auto now_s = static_cast<std::uint64_t>(std::max<std::int64_t>(0, seconds.count()));
    const auto skew = static_cast<std::uint64_t>(std::max<std::int64_t>(0, clock_skew.count()));
    if (signature.expiration && *signature.expiration < now_s &&
        now_s - *signature.expiration > skew) {
        return "signature expired at " + format_time(*signature.expiration);
    }
    if (signature.timestamp && *signature.timestamp > now_s &&
        *signature.timestamp - now_s > skew) {
        return "signature timestamp is in the future (" + format_time(*signature.timestamp) + ")";
    }
    return "";
}

}  // namespace mailwarden::auth::dkim
