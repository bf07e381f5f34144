// crypto.cpp - SHA hashing, DKIM public keys and signature checks over OpenSSL 3 EVP.
#include "auth/dkim/crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "util/unique_handle.hpp"

namespace mailwarden::auth::dkim {

namespace {

using PkeyHandle = util::UniqueHandle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxHandle = util::UniqueHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxHandle = util::UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;

constexpr std::size_t kEd25519KeyOctets = 32;  // RFC 8463 §4: the raw public key

// One DER element (X.690 §8.1): its tag and contents; `der` advances past it.
struct DerElement {
    std::uint8_t tag = 0;
    std::span<const std::uint8_t> contents;
};

std::optional<DerElement> read_der(std::span<const std::uint8_t>& der) {
    if (der.size() < 2) {
        return std::nullopt;
    }
    DerElement e{der[0], {}};
    std::size_t length = der[1];
    std::size_t header = 2;
    if (length & 0x80) {
        const std::size_t octets = length & 0x7F;
        if (octets == 0 || octets > 3 || der.size() < 2 + octets) {
            return std::nullopt;
        }
        length = 0;
        for (std::size_t i = 0; i < octets; ++i) {
            length = (length << 8) | der[2 + i];
        }
        header += octets;
    }
    if (der.size() - header < length) {
        return std::nullopt;
    }
    e.contents = der.subspan(header, length);
    der = der.subspan(header + length);
    return e;
}

// The RSAPublicKey inside an RSA SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 8017 A.1.1),
// or nullopt when `der` is not exactly that. Done by hand because OpenSSL 3's generic key
// decoder costs some 50 times more than decoding the RSAPublicKey itself.
std::optional<std::span<const std::uint8_t>> rsa_key_in_spki(std::span<const std::uint8_t> der) {
    static constexpr std::uint8_t kRsaEncryption[] = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                      0x0D, 0x01, 0x01, 0x01};
    auto spki = read_der(der);
    if (!spki || spki->tag != 0x30 || !der.empty()) {
        return std::nullopt;
    }
    auto body = spki->contents;
    auto algorithm = read_der(body);
    auto key = read_der(body);
    if (!algorithm || algorithm->tag != 0x30 || !key || key->tag != 0x03 || !body.empty()) {
        return std::nullopt;
    }
    auto oid = read_der(algorithm->contents);
    if (!oid || oid->tag != 0x06 ||
        !std::ranges::equal(oid->contents, std::span<const std::uint8_t>(kRsaEncryption))) {
        return std::nullopt;
    }
    if (!algorithm->contents.empty()) {  // parameters: NULL
        auto params = read_der(algorithm->contents);
        if (!params || params->tag != 0x05 || !params->contents.empty() ||
            !algorithm->contents.empty()) {
            return std::nullopt;
        }
    }
    if (key->contents.empty() || key->contents[0] != 0) {  // BIT STRING: no unused bits
        return std::nullopt;
    }
    return key->contents.subspan(1);
}

const EVP_MD* digest_of(HashAlgorithm hash) {
    return hash == HashAlgorithm::Sha1 ? EVP_sha1() : EVP_sha256();
}

}  // namespace

struct Hasher::State {
    MdCtxHandle ctx{EVP_MD_CTX_new()};
    bool ok = false;
};

Hasher::Hasher(HashAlgorithm algorithm) : state_(std::make_unique<State>()) {
    state_->ok =
        state_->ctx && EVP_DigestInit_ex(state_->ctx.get(), digest_of(algorithm), nullptr) == 1;
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::string_view bytes) {
    if (state_->ok && !bytes.empty()) {
        state_->ok = EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size()) == 1;
    }
}

std::vector<std::uint8_t> Hasher::finish() {
    std::vector<std::uint8_t> digest(EVP_MAX_MD_SIZE);
    unsigned size = 0;
    if (!state_->ok || EVP_DigestFinal_ex(state_->ctx.get(), digest.data(), &size) != 1) {
        ERR_clear_error();
        return {};  // compares unequal to every real digest
    }
    state_->ok = false;
    digest.resize(size);
    return digest;
}

struct PublicKey::Handle {
    PkeyHandle pkey;
};

PublicKey::PublicKey(KeyType type, unsigned bits, std::unique_ptr<Handle> handle) noexcept
    : type_(type), bits_(bits), handle_(std::move(handle)) {}
PublicKey::~PublicKey() = default;
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;

std::expected<PublicKey, std::string> PublicKey::parse(KeyType type,
                                                       std::span<const std::uint8_t> der) {
    if (type == KeyType::Ed25519) {
        if (der.size() != kEd25519KeyOctets) {
            return std::unexpected(
                fmt::format("ed25519 key is {} bytes, not {}", der.size(), kEd25519KeyOctets));
        }
        PkeyHandle pkey(
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, der.data(), der.size()));
        if (!pkey) {
            ERR_clear_error();
            return std::unexpected("not an ed25519 public key");
        }
        return PublicKey(type, 256, std::make_unique<Handle>(Handle{std::move(pkey)}));
    }
    // RFC 6376 §3.6.1: an RSA SubjectPublicKeyInfo. Many signers publish the PKCS#1
    // RSAPublicKey alone; accept it as other verifiers do. The whole value must be the key.
    const std::span<const std::uint8_t> rsa_key = rsa_key_in_spki(der).value_or(der);
    const unsigned char* p = rsa_key.data();
    PkeyHandle pkey(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(rsa_key.size())));
    if (pkey && p != rsa_key.data() + rsa_key.size()) {
        pkey.reset();
    }
    ERR_clear_error();
    if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
        return std::unexpected("p= is not an RSA public key");
    }
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits <= 0) {
        return std::unexpected("p= is not an RSA public key");
    }
    return PublicKey(type, static_cast<unsigned>(bits),
                     std::make_unique<Handle>(Handle{std::move(pkey)}));
}

bool PublicKey::verify(Algorithm algorithm, std::span<const std::uint8_t> digest,
                       std::span<const std::uint8_t> signature) const {
    if (!handle_ || key_type_of(algorithm) != type_ || digest.empty()) {
        return false;
    }
    bool ok = false;
    if (type_ == KeyType::Ed25519) {
        // RFC 8463 §3: Ed25519 (pure) over the SHA-256 of the header hash input.
        MdCtxHandle ctx(EVP_MD_CTX_new());
        ok = ctx &&
             EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, handle_->pkey.get()) == 1 &&
             EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), digest.data(),
                              digest.size()) == 1;
    } else {
        // RFC 6376 §3.3.1/§3.3.2: RSASSA-PKCS1-v1_5 with the DigestInfo of SHA-1/SHA-256.
        PkeyCtxHandle ctx(EVP_PKEY_CTX_new(handle_->pkey.get(), nullptr));
        ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx.get(), digest_of(hash_of(algorithm))) == 1 &&
             EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(),
                             digest.size()) == 1;
    }
    ERR_clear_error();
    return ok;
}

}  // namespace mailwarden::auth::dkim
