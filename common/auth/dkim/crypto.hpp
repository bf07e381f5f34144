// crypto.hpp - the cryptography DKIM needs, over OpenSSL 3 EVP (the only OpenSSL user).
//
// Hashing (SHA-1, SHA-256) incrementally; public keys from key record p= values: RSA as
// SubjectPublicKeyInfo DER (RFC 6376 §3.6.1) or, as many verifiers accept, a bare PKCS#1
// RSAPublicKey; Ed25519 as the raw 32-byte key (RFC 8463 §4). Verification of rsa-sha1,
// rsa-sha256 (RSASSA-PKCS1-v1_5 over the digest, RFC 6376 §3.3) and ed25519-sha256
// (PureEdDSA over the SHA-256 digest, RFC 8463 §3). Never throws; OpenSSL errors are
// drained and reported as values.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/signature.hpp"

namespace mailwarden::auth::dkim {

/// An incremental SHA-1 or SHA-256.
class Hasher {
  public:
    explicit Hasher(HashAlgorithm algorithm);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void update(std::string_view bytes);
    /// The digest; the hasher cannot be updated afterwards.
    std::vector<std::uint8_t> finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

/// A public key ready to verify.
class PublicKey {
  public:
    ~PublicKey();
    PublicKey(PublicKey&&) noexcept;
    PublicKey& operator=(PublicKey&&) noexcept;
    PublicKey(const PublicKey&) = delete;
    PublicKey& operator=(const PublicKey&) = delete;

    KeyType type() const noexcept { return type_; }
    /// Modulus size for RSA, 256 for Ed25519.
    unsigned bits() const noexcept { return bits_; }

    /// True when `signature` is a valid signature of `digest` (the SHA-1 or SHA-256 of the
    /// header hash input) under this key with `algorithm`.
    bool verify(Algorithm algorithm, std::span<const std::uint8_t> digest,
                std::span<const std::uint8_t> signature) const;

    /// The key in `der` (p= decoded) of type `type`, or the reason it is not a key ("not an
    /// RSA public key", "ed25519 key is 44 bytes, not 32").
    static std::expected<PublicKey, std::string> parse(KeyType type,
                                                       std::span<const std::uint8_t> der);

  private:
    struct Handle;
    PublicKey(KeyType type, unsigned bits, std::unique_ptr<Handle> handle) noexcept;

    KeyType type_ = KeyType::Rsa;
    unsigned bits_ = 0;
    std::unique_ptr<Handle> handle_;
};

}  // namespace mailwarden::auth::dkim
