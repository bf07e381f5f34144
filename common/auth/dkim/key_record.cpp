// key_record.cpp - DKIM key record parsing (RFC 6376 §3.6.1, RFC 8463 §4).
#include "auth/dkim/key_record.hpp"

#include <fmt/format.h>

#include "auth/dkim/base64.hpp"
#include "auth/dkim/tag_list.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {

namespace {

using Unexpected = std::unexpected<std::string>;

std::vector<std::string_view> colon_list(std::string_view value) {
    std::vector<std::string_view> items;
    for (const std::string_view item : util::split(value, ':')) {
        items.push_back(util::trim(item));
    }
    return items;
}

std::string shown(std::string_view value) {
    return std::string(value.substr(0, 32)) + (value.size() > 32 ? "..." : "");
}

}  // namespace

std::expected<KeyRecord, std::string> parse_key_record(std::string_view text) {
    if (text.size() > kMaxKeyRecordOctets) {
        return Unexpected(fmt::format("key record too long ({} octets)", text.size()));
    }
    if (util::trim(text).empty()) {
        return Unexpected("key record is empty");
    }
    auto parsed = parse_tag_list(text);
    if (!parsed) {
        return Unexpected("key record syntax error: " + parsed.error());
    }
    const TagList& tags = *parsed;
    KeyRecord key;
    // RFC 6376 §3.6.1 v=: if present, MUST be "DKIM1" and the first tag.
    if (const auto v = tags.find("v")) {
        if (tags.tags().front().name != "v") {
            return Unexpected("key record v= is not the first tag");
        }
        if (*v != "DKIM1") {
            return Unexpected(fmt::format("key record version is not DKIM1 (v={})", shown(*v)));
        }
    }
    if (const auto k = tags.find("k")) {
        if (*k == "rsa") {
            key.type = KeyType::Rsa;
        } else if (*k == "ed25519") {  // RFC 8463 §4
            key.type = KeyType::Ed25519;
        } else {
            return Unexpected(fmt::format("unknown key type k={}", shown(*k)));
        }
    }
    // h=: unknown hash names are ignored (RFC 6376 §3.6.1).
    if (const auto h = tags.find("h")) {
        key.allows_sha1 = key.allows_sha256 = false;
        for (const std::string_view hash : colon_list(*h)) {
            key.allows_sha1 = key.allows_sha1 || hash == "sha1";
            key.allows_sha256 = key.allows_sha256 || hash == "sha256";
        }
    }
    if (const auto s = tags.find("s")) {
        key.email_service = false;
        for (const std::string_view service : colon_list(*s)) {
            key.email_service = key.email_service || service == "*" || service == "email";
        }
    }
    if (const auto t = tags.find("t")) {
        for (const std::string_view flag : colon_list(*t)) {
            key.testing = key.testing || flag == "y";
            key.strict_identity = key.strict_identity || flag == "s";
        }
    }
    const auto p = tags.find("p");
    if (!p) {
        return Unexpected("key record has no p= tag");
    }
    if (strip_fws(*p).empty()) {
        key.revoked = true;  // RFC 6376 §3.6.1 p=: an empty value means revoked
        return key;
    }
    auto decoded = decode_base64(*p);
    if (!decoded) {
        return Unexpected("key record p= is not valid base64");
    }
    key.public_key = std::move(*decoded);
    return key;
}

std::string check_key_usable(const KeyRecord& key, const Signature& signature) {
    if (key.revoked) {
        return "key revoked";
    }
    if (key.type != key_type_of(signature.algorithm)) {
        return fmt::format("key type {} does not match a={}", to_string(key.type),
                           to_string(signature.algorithm));
    }
    const HashAlgorithm hash = hash_of(signature.algorithm);
    if ((hash == HashAlgorithm::Sha1 && !key.allows_sha1) ||
        (hash == HashAlgorithm::Sha256 && !key.allows_sha256)) {
        return fmt::format("key record h= does not allow {}", to_string(hash));
    }
    if (!key.email_service) {
        return "key record s= does not allow email";
    }
    // RFC 6376 §3.6.1 t=s: the i= domain must not be a subdomain of d=.
    if (key.strict_identity && signature.identity_domain != signature.domain) {
        return "key record t=s requires i= in exactly d=";
    }
    return "";
}

}  // namespace mailwarden::auth::dkim
