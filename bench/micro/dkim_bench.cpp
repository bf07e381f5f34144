// dkim_bench.cpp - DKIM verification cost (Google Benchmark).
//
// One rsa-sha256 (2048-bit) signature on a message with a 100 KB body, keys served by a
// StaticResolver, verified whole (header parsing, key fetch and parsing, canonicalization,
// hashing, RSA); and, for comparison, its parts: body canonicalization throughput (simple,
// relaxed, in 64 KB chunks as the milter receives them), OpenSSL's own RSA-2048 verify of
// one digest, and one SHA-256 pass over 100 KB. Target: the whole verification costs little
// more than the RSA verify plus the SHA-256 pass. The message is signed here with the test
// signer (tests/unit/dkim/test_signer.hpp), which uses OpenSSL directly.
#include <benchmark/benchmark.h>
#include <openssl/rsa.h>

#include "../../tests/unit/dkim/test_signer.hpp"
#include "auth/dkim/canonicalization.hpp"
#include "auth/dkim/crypto.hpp"
#include "auth/dkim/verifier.hpp"
#include "dns/static_resolver.hpp"

namespace {

namespace dkim = mailwarden::auth::dkim;
namespace dns = mailwarden::dns;

constexpr std::size_t kBodyOctets = 100 * 1024;
constexpr std::size_t kChunkOctets = 64 * 1024;
const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'700'000'000)};

std::string body_100k() {
    // Text as mail carries it: most lines need no change; one in eight has a tab, a double
    // space or trailing whitespace, and paragraphs are separated by empty lines.
    std::string body;
    const std::string lines[] = {
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\r\n",
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis\r\n",
        "nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\r\n",
        "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore\r\n",
        "eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident,\r\n",
        "sunt in culpa qui officia deserunt mollit anim id est laborum.\r\n",
        "\r\n",
        "\tIndented:  a tab, two spaces and trailing whitespace \t\r\n",
    };
    for (std::size_t i = 0; body.size() + lines[i % 8].size() <= kBodyOctets; ++i) {
        body += lines[i % 8];
    }
    body.append(kBodyOctets - body.size() - 2, 'x');
    body += "\r\n";
    return body;
}

struct Fixture {
    dkim::testing::TestKey key = dkim::testing::TestKey::rsa(2048);
    dns::StaticResolver zone;
    std::string body = body_100k();
    std::string message;

    Fixture() {
        zone.add_txt("sel._domainkey.example.com", key.record());
        const std::string unsigned_message =
            "From: Joe <joe@example.com>\r\nTo: ann@example.net\r\nSubject: benchmark\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <bench@example.com>\r\n\r\n" +
            body;
        dkim::testing::SignSpec spec;
        spec.headers = {"From", "To", "Subject", "Date", "Message-ID"};
        message = dkim::testing::sign(key, spec, unsigned_message);
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void BM_DkimVerifyRsa2048Body100KB(benchmark::State& state) {
    Fixture& f = fixture();
    for (auto _ : state) {
        auto results = dkim::verify_message(f.zone, f.message, dkim::Options{}, kNow);
        if (results.size() != 1 || results[0].result != dkim::Result::Pass) {
            state.SkipWithError("expected pass");
            break;
        }
        benchmark::DoNotOptimize(results);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.message.size()));
}
BENCHMARK(BM_DkimVerifyRsa2048Body100KB)->Unit(benchmark::kMicrosecond);

void body_canon(benchmark::State& state, dkim::Canonicalization canon) {
    const std::string& body = fixture().body;
    std::string out;
    for (auto _ : state) {
        dkim::BodyCanonicalizer c(canon);
        for (std::size_t at = 0; at < body.size(); at += kChunkOctets) {
            out.clear();
            c.update(std::string_view(body).substr(at, kChunkOctets), out);
            benchmark::DoNotOptimize(out.data());
        }
        out.clear();
        c.finish(out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
void BM_DkimBodyCanonSimple(benchmark::State& state) {
    body_canon(state, dkim::Canonicalization::Simple);
}
void BM_DkimBodyCanonRelaxed(benchmark::State& state) {
    body_canon(state, dkim::Canonicalization::Relaxed);
}
BENCHMARK(BM_DkimBodyCanonSimple)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DkimBodyCanonRelaxed)->Unit(benchmark::kMicrosecond);

// OpenSSL alone: RSASSA-PKCS1-v1_5 / SHA-256 verify of one digest with a 2048-bit key.
void BM_OpenSslRsa2048VerifyDigest(benchmark::State& state) {
    Fixture& f = fixture();
    const std::string data = "header hash input";
    std::vector<unsigned char> sig(512);
    std::size_t sig_len = sig.size();
    EVP_MD_CTX* sign_ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(sign_ctx, nullptr, EVP_sha256(), nullptr, f.key.pkey());
    EVP_DigestSign(sign_ctx, sig.data(), &sig_len,
                   reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MD_CTX_free(sign_ctx);
    unsigned char digest[32];
    unsigned digest_len = 0;
    EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_sha256(), nullptr);
    for (auto _ : state) {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(f.key.pkey(), nullptr);
        EVP_PKEY_verify_init(ctx);
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
        const int ok = EVP_PKEY_verify(ctx, sig.data(), sig_len, digest, digest_len);
        EVP_PKEY_CTX_free(ctx);
        if (ok != 1) {
            state.SkipWithError("verify failed");
            break;
        }
    }
}
BENCHMARK(BM_OpenSslRsa2048VerifyDigest)->Unit(benchmark::kMicrosecond);

void BM_Sha256Pass100KB(benchmark::State& state) {
    const std::string& body = fixture().body;
    for (auto _ : state) {
        dkim::Hasher h(dkim::HashAlgorithm::Sha256);
        h.update(body);
        auto digest = h.finish();
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Sha256Pass100KB)->Unit(benchmark::kMicrosecond);

// The key record's p= turned into an OpenSSL key (part of every verification), as an
// RSA SubjectPublicKeyInfo (the standard form) or a bare PKCS#1 RSAPublicKey.
void parse_key(benchmark::State& state, const std::vector<std::uint8_t>& der) {
    for (auto _ : state) {
        auto key = dkim::PublicKey::parse(dkim::KeyType::Rsa, der);
        if (!key) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(key);
    }
}
void BM_DkimParseRsa2048PublicKey(benchmark::State& state) {
    parse_key(state, fixture().key.public_bytes());
}
void BM_DkimParseRsa2048Pkcs1PublicKey(benchmark::State& state) {
    parse_key(state, fixture().key.pkcs1_public_bytes());
}
BENCHMARK(BM_DkimParseRsa2048PublicKey)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DkimParseRsa2048Pkcs1PublicKey)->Unit(benchmark::kMicrosecond);

}  // namespace
