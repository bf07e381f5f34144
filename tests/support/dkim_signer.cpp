// dkim_signer.cpp - see dkim_signer.hpp.
#include "support/dkim_signer.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "support/process.hpp"
#include "util/ascii.hpp"

namespace mailwarden::testing {

namespace {

constexpr std::string_view kPython = "/usr/bin/python3";
constexpr std::string_view kOpenssl = "/usr/bin/openssl";

// Signs argv[1] (message file) with argv[2] (key) for domain argv[3], selector argv[4],
// canonicalization argv[5], headers argv[6] (comma-separated), algorithm argv[7].
constexpr std::string_view kSignScript = R"(
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
key = open(sys.argv[2], 'rb').read()
header, body = sys.argv[5].split('/')
sig = dkim.sign(msg, sys.argv[4].encode(), sys.argv[3].encode(), key,
                canonicalize=(header.encode(), body.encode()),
                include_headers=[h.encode() for h in sys.argv[6].split(',')],
                signature_algorithm=sys.argv[7].encode())
sys.stdout.write(sig.decode())
)";

// Prints the public key of argv[1] as a DKIM p= value (base64 SPKI DER for RSA, raw 32
// bytes for Ed25519).
constexpr std::string_view kPublicScript = R"(
import sys, base64
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), password=None)
pub = key.public_key()
if isinstance(pub, ed25519.Ed25519PublicKey):
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
else:
    raw = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
print(base64.b64encode(raw).decode())
)";

util::Result<std::string> run_checked(ProcessOptions options) {
    const std::string program = options.program.string();
    auto r = run(std::move(options), std::chrono::seconds(60));
    if (!r) {
        return std::unexpected(r.error());
    }
    if (r->status != 0) {
        return util::fail(util::ErrorCode::Internal,
                          fmt::format("{} exited {}: {}", program, r->status, r->output));
    }
    return r->output;
}

}  // namespace

std::optional<std::string> dkimpy_unavailable_reason() {
    if (!std::filesystem::exists(kPython)) {
        return "no /usr/bin/python3 (apt-get install python3)";
    }
    if (!std::filesystem::exists(kOpenssl)) {
        return "no /usr/bin/openssl (apt-get install openssl)";
    }
    auto r = run(command(std::string(kPython), {"-c", "import dkim, cryptography, nacl"}));
    if (!r || r->status != 0) {
        return "/usr/bin/python3 lacks dkim, cryptography or nacl "
               "(apt-get install python3-dkim python3-cryptography python3-nacl)";
    }
    return std::nullopt;
}

util::Result<DkimSigner> DkimSigner::create(const std::filesystem::path& dir, std::string domain,
                                            std::string selector, unsigned bits, bool ed25519) {
    DkimSigner s;
    s.dir_ = dir;
    s.domain_ = std::move(domain);
    s.selector_ = std::move(selector);
    s.ed25519_ = ed25519;
    s.private_key_ = dir / fmt::format("{}.{}.key", s.selector_, s.domain_);
    std::vector<std::string> args = {"genpkey", "-out", s.private_key_.string()};
    if (ed25519) {
        args.insert(args.end(), {"-algorithm", "ed25519"});
    } else {
        args.insert(args.end(),
                    {"-algorithm", "rsa", "-pkeyopt", fmt::format("rsa_keygen_bits:{}", bits)});
    }
    if (auto r = run_checked(command(std::string(kOpenssl), args)); !r) {
        return std::unexpected(r.error());
    }
    const auto script = dir / "dkim_public.py";
    std::ofstream(script) << kPublicScript;
    auto p = run_checked(command(std::string(kPython), {script.string(), s.private_key_.string()}));
    if (!p) {
        return std::unexpected(p.error());
    }
    s.record_ = fmt::format("v=DKIM1; k={}; p={}", ed25519 ? "ed25519" : "rsa", util::trim(*p));
    return s;
}

std::string DkimSigner::key_name() const {
    return fmt::format("{}._domainkey.{}", selector_, domain_);
}

util::Result<std::string> DkimSigner::sign(const std::string& message,
                                           const std::string& canonicalization,
                                           const std::vector<std::string>& headers) const {
    const auto script = dir_ / "dkim_sign.py";
    std::ofstream(script) << kSignScript;
    const auto file = dir_ / "to-sign.eml";
    std::ofstream(file, std::ios::binary) << message;
    std::string list;
    for (const auto& h : headers) {
        list += (list.empty() ? "" : ",") + h;
    }
    auto out = run_checked(
        command(std::string(kPython),
                {script.string(), file.string(), private_key_.string(), domain_, selector_,
                 canonicalization, list, ed25519_ ? "ed25519-sha256" : "rsa-sha256"}));
    if (!out) {
        return std::unexpected(out.error());
    }
    // "DKIM-Signature: v=1; ...\r\n": keep what follows the colon, without the final CRLF.
    std::string text = *out;
    const auto colon = text.find(':');
    if (colon == std::string::npos) {
        return util::fail(util::ErrorCode::Internal, "dkimpy printed no signature: " + text);
    }
    text.erase(0, colon + 1);
    if (!text.empty() && text.front() == ' ') {
        text.erase(0, 1);  // the MTA (or the milter client) writes that space itself
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

}  // namespace mailwarden::testing
