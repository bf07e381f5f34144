// verifier.cpp - per-message DKIM verification (RFC 6376 §6.1) as the message streams.
//
// end_of_headers() does everything that does not need the body: it parses each signature
// (up to Options::max_signatures), fetches and checks its key, and verifies the header
// signature (the header hash input includes bh=, so this is possible before the body).
// Only signatures still alive then get a body hasher; signatures with the same body
// canonicalization, hash and l= share one. finish() compares the body hashes.
#include "auth/dkim/verifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/dkim/canonicalization.hpp"
#include "auth/dkim/crypto.hpp"
#include "auth/dkim/key_record.hpp"
#include "auth/dkim/signature.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {

namespace {

constexpr std::string_view kSignatureField = "DKIM-Signature";

// One body canonicalization + hash + l= combination, shared by the signatures that use it;
// the canonicalizer writes straight into it.
struct BodyHasher final : BodyCanonicalizer::Sink {
    Canonicalization canon;
    HashAlgorithm hash;
    std::optional<std::uint64_t> limit;  // l=
    BodyCanonicalizer canonicalizer;
    Hasher hasher;
    std::uint64_t hashed = 0;  // canonical octets hashed so far
    bool full = false;         // l= octets hashed: the rest of the body is not needed
    std::vector<std::uint8_t> digest;

    BodyHasher(Canonicalization c, HashAlgorithm h, std::optional<std::uint64_t> l)
        : canon(c), hash(h), limit(l), canonicalizer(c), hasher(h) {}

    void write(std::string_view canonical) override {
        if (full) {
            return;
        }
        if (limit) {
            const std::uint64_t room = *limit - hashed;
            if (canonical.size() >= room) {
                canonical = canonical.substr(0, static_cast<std::size_t>(room));
                full = true;
            }
        }
        hasher.update(canonical);
        hashed += canonical.size();
    }
};

std::string dns_failure_reason(dns::Rcode rcode, const std::string& name) {
    switch (rcode) {
        case dns::Rcode::Timeout:
            return "DNS timeout fetching key at " + name;
        case dns::Rcode::ServFail:
            return "DNS server failure fetching key at " + name;
        case dns::Rcode::Refused:
            return "DNS query refused fetching key at " + name;
        default:
            return "no key record at " + name;
    }
}

}  // namespace

class Verifier::Impl {
  public:
    Impl(dns::Resolver& resolver, Options options, std::chrono::system_clock::time_point now)
        : resolver_(resolver), options_(options), now_(now) {}

    void header(std::string_view name, std::string_view value) {
        if (stage_ != Stage::Headers) {
            return;
        }
        if (util::iequals(util::trim(name), kSignatureField)) {
            signature_fields_.push_back(headers_.size());
        }
        headers_.push_back(Field{std::string(name), normalize_line_ends(value)});
    }

    void end_of_headers() {
        if (stage_ != Stage::Headers) {
            return;
        }
        stage_ = Stage::Body;
        if (signature_fields_.empty()) {
            return;
        }
        for (std::size_t i = 0; i < headers_.size(); ++i) {
            by_name_[util::to_lower(util::trim(headers_[i].name))].push_back(i);
        }
        candidates_.resize(signature_fields_.size());
        for (std::size_t n = 0; n < signature_fields_.size(); ++n) {
            Candidate& c = candidates_[n];
            if (n >= options_.max_signatures) {
                // Bounded work: later signatures are not even parsed.
                c.result.result = Result::PermError;
                c.result.reason = fmt::format("too many signatures (only the first {} are checked)",
                                              options_.max_signatures);
                continue;
            }
            evaluate(c, headers_[signature_fields_[n]]);
        }
    }

    void body(std::span<const std::byte> chunk) {
        if (stage_ == Stage::Headers) {
            end_of_headers();
        }
        if (stage_ != Stage::Body) {
            return;
        }
        const std::string_view bytes(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        for (auto& h : hashers_) {
            if (h.full) {
                continue;
            }
            h.canonicalizer.update(bytes, h);
        }
    }

    std::vector<SignatureResult> finish() {
        if (stage_ == Stage::Headers) {
            end_of_headers();
        }
        if (stage_ == Stage::Done) {
            return {};
        }
        stage_ = Stage::Done;
        for (auto& h : hashers_) {
            if (!h.full) {
                h.canonicalizer.finish(h);
            }
            h.digest = h.hasher.finish();
        }
        std::vector<SignatureResult> results;
        results.reserve(candidates_.size());
        for (auto& c : candidates_) {
            if (c.hasher) {
                judge_body(c, hashers_[*c.hasher]);
            }
            results.push_back(std::move(c.result));
        }
        return results;
    }

  private:
    enum class Stage { Headers, Body, Done };
    struct Field {
        std::string name;
        std::string value;  // after the colon, folding as CRLF
    };
    struct Candidate {
        SignatureResult result;
        std::optional<Signature> signature;
        std::optional<std::size_t> hasher;  // set while the body hash is pending
        bool testing = false;
    };

    void permerror(Candidate& c, std::string reason) {
        c.result.result = Result::PermError;
        c.result.reason = std::move(reason);
    }

    void evaluate(Candidate& c, const Field& field) {
        SignatureResult& r = c.result;
        auto peek = peek_identity(field.value);
        r.domain = std::move(peek.domain);
        r.selector = std::move(peek.selector);
        r.identity = std::move(peek.identity);
        r.algorithm = std::move(peek.algorithm);
        r.signature = std::move(peek.signature);

        auto parsed = parse_signature(field.value);
        if (!parsed) {
            return permerror(c, std::move(parsed.error()));
        }
        const Signature& sig = c.signature.emplace(std::move(*parsed));
        r.domain = sig.domain;
        r.selector = sig.selector;
        r.identity = sig.identity;
        r.algorithm = sig.algorithm_text;
        r.signature = sig.b_text;
        r.body_length_limited = sig.length.has_value();

        // RFC 8301 §3.1: rsa-sha1 signatures are not valid.
        if (sig.algorithm == Algorithm::RsaSha1 && !options_.allow_rsa_sha1) {
            return permerror(c, "rsa-sha1 is not an acceptable algorithm (RFC 8301)");
        }
        if (auto why = check_times(sig, now_, options_.clock_skew); !why.empty()) {
            return permerror(c, std::move(why));
        }
        auto key = fetch_key(c, sig);
        if (!key) {
            return;
        }
        r.key_bits = key->bits();
        // RFC 8301 §3.2: RSA keys under 1024 bits are not valid; huge keys cost too much.
        if (key->type() == KeyType::Rsa && key->bits() < options_.min_rsa_bits) {
            return permerror(c, fmt::format("key too short ({} bits)", key->bits()));
        }
        if (key->type() == KeyType::Rsa && key->bits() > options_.max_rsa_bits) {
            return permerror(c, fmt::format("key too long ({} bits, limit {})", key->bits(),
                                            options_.max_rsa_bits));
        }
        // RFC 6376 §3.7: the header hash, then the signature over it (§6.1.3).
        Hasher hasher(hash_of(sig.algorithm));
        hash_headers(sig, field, hasher);
        const auto digest = hasher.finish();
        if (!key->verify(sig.algorithm, digest, sig.b)) {
            r.result = Result::Fail;
            r.reason = "signature did not verify";
            return;
        }
        c.hasher = body_hasher_for(sig);
    }

    // The key of `sig` (RFC 6376 §6.1.2), or nullopt with the result set.
    std::optional<PublicKey> fetch_key(Candidate& c, const Signature& sig) {
        const std::string name = sig.selector + "._domainkey." + sig.domain;
        if (name.size() > 253) {
            permerror(c, "key name is longer than a domain name may be");
            return std::nullopt;
        }
        auto it = answers_.find(util::to_lower(name));
        if (it == answers_.end()) {
            it = answers_.emplace(util::to_lower(name), resolver_.txt(name)).first;
        }
        const dns::Answer<dns::TxtRecord>& answer = it->second;
        if (dns::is_temporary(answer.rcode)) {
            c.result.result = Result::TempError;
            c.result.reason = dns_failure_reason(answer.rcode, name);
            return std::nullopt;
        }
        if (answer.records.empty()) {
            permerror(c, dns_failure_reason(answer.rcode, name));
            return std::nullopt;
        }
        // RFC 6376 §3.6.2.2: with several TXT records, use the first that is a key record.
        std::optional<KeyRecord> record;
        std::string error;
        for (const auto& txt : answer.records) {
            auto parsed = parse_key_record(txt.text());
            if (parsed) {
                record = std::move(*parsed);
                break;
            }
            if (error.empty()) {
                error = std::move(parsed.error());
            }
        }
        if (!record) {
            permerror(c, error == "key record is empty" ? "no key record at " + name + " (empty)"
                                                        : error + " at " + name);
            return std::nullopt;
        }
        if (auto why = check_key_usable(*record, sig); !why.empty()) {
            permerror(c, std::move(why));
            return std::nullopt;
        }
        c.testing = record->testing;
        auto key = PublicKey::parse(record->type, record->public_key);
        if (!key) {
            permerror(c, "invalid public key: " + key.error());
            return std::nullopt;
        }
        return std::move(*key);
    }

    // RFC 6376 §5.4.2: each h= name takes the next instance of that field from the bottom;
    // a name listed more often than the field occurs contributes nothing.
    void hash_headers(const Signature& sig, const Field& field, Hasher& hasher) {
        std::unordered_map<std::string, std::size_t> used;
        std::string canonical;
        for (const std::string& name : sig.headers) {
            const std::string key = util::to_lower(name);
            const auto found = by_name_.find(key);
            std::size_t& n = used[key];
            if (found == by_name_.end() || n >= found->second.size()) {
                continue;
            }
            const Field& h = headers_[found->second[found->second.size() - 1 - n]];
            ++n;
            canonical.clear();
            canonicalize_header(sig.header_canon, h.name, h.value, canonical);
            hasher.update(canonical);
        }
        // The signature field itself, b= emptied, without its final CRLF (§3.7).
        canonical.clear();
        canonicalize_header(sig.header_canon, field.name, sig.value_without_b, canonical);
        canonical.resize(canonical.size() - 2);
        hasher.update(canonical);
    }

    std::size_t body_hasher_for(const Signature& sig) {
        const HashAlgorithm hash = hash_of(sig.algorithm);
        for (std::size_t i = 0; i < hashers_.size(); ++i) {
            const auto& h = hashers_[i];
            if (h.canon == sig.body_canon && h.hash == hash && h.limit == sig.length) {
                return i;
            }
        }
        hashers_.emplace_back(sig.body_canon, hash, sig.length);
        return hashers_.size() - 1;
    }

    void judge_body(Candidate& c, const BodyHasher& h) {
        const Signature& sig = *c.signature;
        SignatureResult& r = c.result;
        if (sig.length && h.hashed < *sig.length) {
            // l= claims more body than there is: the signer did not sign this body.
            r.result = Result::Fail;
            r.reason = fmt::format("body hash did not verify (body is {} octets, l={})", h.hashed,
                                   *sig.length);
            return;
        }
        if (h.digest.empty() || h.digest != sig.bh) {
            r.result = Result::Fail;
            r.reason = "body hash did not verify";
            return;
        }
        r.result = Result::Pass;
        r.reason = "signature verified";
        if (sig.length) {
            r.reason += fmt::format(" (l={}: only that much of the body is signed)", *sig.length);
        }
        if (c.testing) {
            r.reason += " (key in testing mode, t=y)";
        }
    }

    dns::Resolver& resolver_;
    Options options_;
    std::chrono::system_clock::time_point now_;
    Stage stage_ = Stage::Headers;
    std::vector<Field> headers_;
    std::vector<std::size_t> signature_fields_;
    std::unordered_map<std::string, std::vector<std::size_t>> by_name_;
    std::vector<Candidate> candidates_;
    std::vector<BodyHasher> hashers_;
    std::map<std::string, dns::Answer<dns::TxtRecord>> answers_;  // one query per key name
};

Verifier::Verifier(dns::Resolver& resolver, Options options,
                   std::chrono::system_clock::time_point now)
    : impl_(std::make_unique<Impl>(resolver, options, now)) {}
Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;

void Verifier::header(std::string_view name, std::string_view value) {
    impl_->header(name, value);
}
void Verifier::end_of_headers() {
    impl_->end_of_headers();
}
void Verifier::body(std::span<const std::byte> chunk) {
    impl_->body(chunk);
}
std::vector<SignatureResult> Verifier::finish() {
    return impl_->finish();
}

std::vector<SignatureResult> verify_message(dns::Resolver& resolver, std::string_view message,
                                            const Options& options,
                                            std::chrono::system_clock::time_point now) {
    Verifier verifier(resolver, options, now);
    std::string name;
    std::string value;
    bool in_field = false;
    std::size_t pos = 0;
    std::size_t body_start = message.size();
    while (pos < message.size()) {
        std::size_t nl = message.find('\n', pos);
        const std::size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
        std::string_view line =
            message.substr(pos, (nl == std::string_view::npos ? next : nl) - pos);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            body_start = next;  // the blank line ends the header (RFC 5322 §2.1)
            break;
        }
        if ((line.front() == ' ' || line.front() == '\t') && in_field) {
            value += "\r\n";  // folding (RFC 5322 §2.2.3)
            value.append(line);
        } else if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
            if (in_field) {
                verifier.header(name, value);
            }
            name.assign(line.substr(0, colon));
            value.assign(line.substr(colon + 1));
            in_field = true;
        }
        // Other lines (an mbox "From " line, garbage) are not header fields: skipped.
        pos = next;
    }
    if (in_field) {
        verifier.header(name, value);
    }
    verifier.end_of_headers();
    if (body_start < message.size()) {
        // In chunks, as an MTA hands them: keeps the canonicalization buffer small.
        constexpr std::size_t kChunkOctets = 64 * 1024;
        for (std::size_t at = body_start; at < message.size(); at += kChunkOctets) {
            const std::string_view chunk = message.substr(at, kChunkOctets);
            verifier.body(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())));
        }
    }
    return verifier.finish();
}

}  // namespace mailwarden::auth::dkim
