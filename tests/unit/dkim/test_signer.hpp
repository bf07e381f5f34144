// test_signer.hpp - a small DKIM signer for tests and benchmarks (not production code).
//
// Generates RSA and Ed25519 keys with OpenSSL, publishes them as key records, and signs
// messages (RFC 6376 §5) with the project's own canonicalization. Its signatures are
// cross-checked against dkimpy and OpenDKIM in tests/integration/dkim, so the verifier's
// unit tests can rely on it. Aborts (a test bug) when OpenSSL fails.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/dkim/canonicalization.hpp"
#include "auth/dkim/crypto.hpp"
#include "auth/dkim/signature.hpp"

namespace mailwarden::auth::dkim::testing {

inline std::string base64(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

/// A private key and the key record that publishes its public half.
class TestKey {
  public:
    static TestKey rsa(unsigned bits) { return TestKey(EVP_RSA_gen(bits), KeyType::Rsa); }
    static TestKey ed25519() {
        return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), KeyType::Ed25519);
    }
    /// A PEM private key (RSA or Ed25519).
    static TestKey from_pem(std::string_view pem) {
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        const bool ed = pkey != nullptr && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
        return TestKey(pkey, ed ? KeyType::Ed25519 : KeyType::Rsa);
    }

    TestKey(TestKey&& other) noexcept
        : pkey_(std::exchange(other.pkey_, nullptr)), type_(other.type_) {}
    TestKey& operator=(TestKey&&) = delete;
    TestKey(const TestKey&) = delete;
    TestKey& operator=(const TestKey&) = delete;
    ~TestKey() { EVP_PKEY_free(pkey_); }

    KeyType type() const { return type_; }
    EVP_PKEY* pkey() const { return pkey_; }

    /// The public key as p= carries it: SPKI DER (RSA) or the raw 32 bytes (Ed25519).
    std::vector<std::uint8_t> public_bytes() const {
        std::vector<std::uint8_t> out;
        if (type_ == KeyType::Ed25519) {
            std::size_t n = 32;
            out.resize(n);
            EVP_PKEY_get_raw_public_key(pkey_, out.data(), &n);
            return out;
        }
        const int n = i2d_PUBKEY(pkey_, nullptr);
        out.resize(static_cast<std::size_t>(n));
        unsigned char* p = out.data();
        i2d_PUBKEY(pkey_, &p);
        return out;
    }
    /// The PKCS#1 RSAPublicKey DER (what some signers publish instead of SPKI).
    std::vector<std::uint8_t> pkcs1_public_bytes() const {
        std::vector<std::uint8_t> out;
        const int n = i2d_PublicKey(pkey_, nullptr);
        out.resize(static_cast<std::size_t>(n));
        unsigned char* p = out.data();
        i2d_PublicKey(pkey_, &p);
        return out;
    }
    /// "v=DKIM1; k=rsa; p=..." (with `extra` tags inserted before p=).
    std::string record(std::string_view extra = "") const {
        return "v=DKIM1; k=" + std::string(to_string(type_)) + "; " + std::string(extra) +
               "p=" + base64(public_bytes());
    }
    /// The Ed25519 private key as dkimpy reads it: the base64 of the 32-byte seed.
    std::string ed25519_seed_base64() const {
        std::vector<std::uint8_t> seed(32);
        std::size_t n = seed.size();
        EVP_PKEY_get_raw_private_key(pkey_, seed.data(), &n);
        return base64(seed);
    }
    /// The private key as PEM (for dkimpy / OpenDKIM).
    std::string private_pem() const {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, pkey_, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string pem(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return pem;
    }

  private:
    TestKey(EVP_PKEY* pkey, KeyType type) : pkey_(pkey), type_(type) {
        if (pkey_ == nullptr) {
            std::abort();
        }
    }
    EVP_PKEY* pkey_;
    KeyType type_;
};

/// What to sign and how.
struct SignSpec {
    std::string domain = "example.com";
    std::string selector = "sel";
    Algorithm algorithm = Algorithm::RsaSha256;
    Canonicalization header_canon = Canonicalization::Relaxed;
    Canonicalization body_canon = Canonicalization::Relaxed;
    std::vector<std::string> headers = {"From", "To", "Subject"};
    std::optional<std::uint64_t> length;  ///< l=
    std::string extra_tags;               ///< e.g. "t=123; x=456; " (inserted before bh=)
};

/// Header fields and body of a message with CRLF or LF line ends (values keep their folds).
struct SplitMessage {
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
};

inline SplitMessage split_message(std::string_view message) {
    SplitMessage m;
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::size_t nl = message.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = message.size();
        }
        std::string_view line = message.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            m.body = pos < message.size() ? std::string(message.substr(pos)) : std::string();
            return m;
        }
        if ((line.front() == ' ' || line.front() == '\t') && !m.fields.empty()) {
            m.fields.back().second += "\r\n" + std::string(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        m.fields.emplace_back(std::string(line.substr(0, colon)),
                              std::string(line.substr(colon + 1)));
    }
    return m;
}

/// `message` with a DKIM-Signature field prepended (RFC 6376 §5).
inline std::string sign(const TestKey& key, const SignSpec& spec, std::string_view message) {
    const SplitMessage m = split_message(message);
    const HashAlgorithm hash = hash_of(spec.algorithm);
    BodyCanonicalizer body(spec.body_canon);
    std::string canonical;
    body.update(m.body, canonical);
    body.finish(canonical);
    if (spec.length && *spec.length < canonical.size()) {
        canonical.resize(*spec.length);
    }
    Hasher body_hasher(hash);
    body_hasher.update(canonical);
    auto canon_name = [](Canonicalization c) {
        return c == Canonicalization::Simple ? "simple" : "relaxed";
    };
    std::string h;
    for (const auto& name : spec.headers) {
        h += (h.empty() ? "" : ":") + name;
    }
    std::string value = " v=1; a=" + std::string(to_string(spec.algorithm)) +
                        "; c=" + canon_name(spec.header_canon) + "/" + canon_name(spec.body_canon) +
                        "; d=" + spec.domain + "; s=" + spec.selector + ";\r\n\th=" + h + "; " +
                        (spec.length ? "l=" + std::to_string(*spec.length) + "; " : "") +
                        spec.extra_tags + "bh=" + base64(body_hasher.finish()) + ";\r\n\tb=";
    // Header hash input (RFC 6376 §3.7, §5.4.2): bottom-up instances, then this field.
    std::string input;
    std::vector<std::size_t> used(m.fields.size(), 0);
    for (const auto& name : spec.headers) {
        for (std::size_t i = m.fields.size(); i-- > 0;) {
            std::string a = m.fields[i].first, b = name;
            for (auto& c : a)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            for (auto& c : b)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (a == b && used[i] == 0) {
                used[i] = 1;
                canonicalize_header(spec.header_canon, m.fields[i].first, m.fields[i].second,
                                    input);
                break;
            }
        }
    }
    canonicalize_header(spec.header_canon, "DKIM-Signature", value, input);
    input.resize(input.size() - 2);

    std::vector<std::uint8_t> sig(1024);
    std::size_t sig_len = sig.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (key.type() == KeyType::Ed25519) {
        Hasher digest(HashAlgorithm::Sha256);
        digest.update(input);
        const auto d = digest.finish();
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key.pkey());
        EVP_DigestSign(ctx, sig.data(), &sig_len, d.data(), d.size());
    } else {
        EVP_DigestSignInit(ctx, nullptr, hash == HashAlgorithm::Sha1 ? EVP_sha1() : EVP_sha256(),
                           nullptr, key.pkey());
        EVP_DigestSign(ctx, sig.data(), &sig_len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
    }
    EVP_MD_CTX_free(ctx);
    sig.resize(sig_len);
    return "DKIM-Signature:" + value + base64(sig) + "\r\n" + std::string(message);
}

}  // namespace mailwarden::auth::dkim::testing
