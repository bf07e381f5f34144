// dkim_signer.hpp - DKIM signatures made by an independent implementation (Debian's
// dkimpy, python3-dkim) for tests that need genuinely signed mail, with a key generated
// by the openssl command for each signer.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace mailwarden::testing {

/// Why dkimpy-signed tests cannot run here (tool missing), or nullopt.
std::optional<std::string> dkimpy_unavailable_reason();

/// A key pair in `dir` and the signing of messages with it.
class DkimSigner {
  public:
    /// Generates an RSA key of `bits` (or Ed25519 when `ed25519`) in `dir`.
    static util::Result<DkimSigner> create(const std::filesystem::path& dir, std::string domain,
                                           std::string selector, unsigned bits = 2048,
                                           bool ed25519 = false);

    /// The DNS name of the key: "<selector>._domainkey.<domain>".
    std::string key_name() const;
    /// The TXT record to publish there ("v=DKIM1; k=rsa; p=...").
    const std::string& key_record() const { return record_; }

    /// The DKIM-Signature field value (after "DKIM-Signature: ", folded with CRLF) for
    /// `message` (header, empty line, body; CRLF line ends).
    util::Result<std::string> sign(const std::string& message,
                                   const std::string& canonicalization = "relaxed/relaxed",
                                   const std::vector<std::string>& headers = {
                                       "from", "to", "subject", "date"}) const;

  private:
    std::filesystem::path dir_;
    std::filesystem::path private_key_;
    std::string domain_;
    std::string selector_;
    std::string record_;
    bool ed25519_ = false;
};

}  // namespace mailwarden::testing
