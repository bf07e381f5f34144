// corpus_test.cpp - the DKIM vectors of ../shared/corpora/dkim, one named test per message.
//
// Expected per-signature results come from the corpora's tables, read for an RFC 6376 +
// RFC 8301 + RFC 8463 verifier as the README says: mail-dkim/expected.tsv's deb_dkimpy
// column (legacy DomainKeys-only messages: none), the dkimpy table of the README, and
// rspamd/expected.tsv's per-signature dkimpy column. Where the README (or RFC reading)
// says the right answer differs from dkimpy's, the row carries the override and why; it is
// printed when the test runs. A summary of the counts is printed at the end.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "auth/dkim/canonicalization.hpp"
#include "auth/dkim/crypto.hpp"
#include "auth/dkim/key_record.hpp"
#include "auth/dkim/verifier.hpp"
#include "conformance/dkim/fake_dns.hpp"
#include "support/paths.hpp"
#include "util/ascii.hpp"

namespace mailwarden::auth::dkim {
namespace {

namespace fs = std::filesystem;

// The corpora were measured in 2026; only ignore_7 has an x= (2007, long expired).
const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'767'225'600)};

struct Expected {
    std::string result;  // "pass", "fail", ...
    std::string domain;  // empty: not asserted
};

struct CorpusCase {
    std::string name;  // test name
    fs::path message;
    fs::path dns;
    std::vector<Expected> want;  // one per DKIM-Signature, in header order; empty = none
    std::string note;            // why `want` differs from the reference column
    // Per-signature results with Options{allow_rsa_sha1, min_rsa_bits = 512}: Mail::DKIM's
    // legacy view, which checks our canonicalization and RSA on its rsa-sha1 vectors.
    std::vector<std::string> legacy_want;
};

void PrintTo(const CorpusCase& c, std::ostream* os) {
    *os << c.name;
}

std::optional<fs::path> dkim_corpus() {
    const auto corpora = mailwarden::testing::corpora_dir();
    if (!corpora || !fs::exists(*corpora / "dkim/mail-dkim/expected.tsv")) {
        return std::nullopt;
    }
    return *corpora / "dkim";
}

std::string test_name(std::string_view prefix, std::string_view file) {
    std::string name(prefix);
    name += '_';
    for (const char c : file) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return name;
}

std::vector<Expected> results_list(std::string_view text) {
    std::vector<Expected> out;
    for (const auto r : util::split(text, ',')) {
        out.push_back({std::string(r), ""});
    }
    return out;
}

// Mail::DKIM corpus rows where the README's reading for our target differs from dkimpy.
const std::map<std::string, std::pair<std::string, std::string>> kMailDkimOverrides = {
    {"multiple_2.txt",
     {"permerror",
      "README lists invalid, pass, fail, permerror (dkimpy 1.1.4 accepts rsa-sha1), but "
      "signatures 2 and 3 are rsa-sha1: RFC 8301 §3.1 permerror; the pass and fail are "
      "asserted in legacy mode (allow_rsa_sha1)"}},
    {"badkey1_ed25519.txt",
     {"permerror",
      "README: a 44-byte (SPKI-wrapped) ed25519 key is not a key (RFC 8463 §4); "
      "dkimpy says fail"}},
    {"badkey3_ed25519.txt",
     {"fail", "README: body modified, body hash mismatch is fail; dkimpy says permerror"}},
    {"badkey4_ed25519.txt", {"permerror", "README: key NXDOMAIN is permerror; dkimpy says fail"}},
    {"badkey5_ed25519.txt",
     {"permerror", "README: an empty TXT record is no key, permerror; dkimpy says fail"}},
    {"badkey_14.txt",
     {"permerror",
      "README says temperror (key lookup times out), but the signature is rsa-sha1, which "
      "RFC 8301 §3.1 makes invalid whatever the key: it is refused before DNS is asked, so "
      "a retry could never pass (a temperror would only defer mail). The DNS timeout path "
      "is asserted with allow_rsa_sha1 (legacy) instead; dkimpy says fail"}},
    {"badkey_15.txt",
     {"permerror",
      "README says temperror (SERVFAIL), but rsa-sha1 is refused before DNS (RFC 8301 "
      "§3.1), see badkey_14; the SERVFAIL path is asserted with allow_rsa_sha1; dkimpy says "
      "fail"}},
};

// Rows whose rsa-sha1 / short-key signatures are checked again in legacy mode, with the
// deb_maildkim verdict (Mail::DKIM's "invalid" read as permerror or temperror).
const std::map<std::string, std::vector<std::string>> kMailDkimLegacy = {
    {"bad_1878954.txt", {"fail"}},
    {"badkey_10.txt", {"permerror"}},  // t=s and i= in a subdomain
    {"badkey_11.txt", {"permerror"}},  // key h= does not allow the hash
    {"badkey_14.txt", {"temperror"}},  // key lookup times out
    {"badkey_15.txt", {"temperror"}},  // SERVFAIL
    {"good_1878523.txt", {"pass"}},
    {"good_83176.txt", {"pass"}},
    {"good_qp_1.txt", {"pass"}},
    {"good_qp_2.txt", {"pass"}},
    {"good_qp_3.txt", {"pass"}},
    {"good_rfc4871_3.txt", {"pass"}},
    {"good_rfc4871_4.txt", {"pass"}},
    {"goodkey_1.txt", {"pass"}},
    {"goodkey_2.txt", {"pass"}},
    {"goodkey_3.txt", {"pass"}},
    {"goodkey_4.txt", {"pass"}},
    {"multiple_2.txt", {"permerror", "pass", "fail", "permerror"}},
};

void add_mail_dkim(const fs::path& root, std::vector<CorpusCase>& cases) {
    std::ifstream in(root / "mail-dkim/expected.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto f = util::split(line, '\t');
        if (f.size() < 7) {
            continue;
        }
        CorpusCase c;
        const std::string file(f[0]);
        c.name = test_name("maildkim", file.substr(0, file.rfind('.')));
        c.message = root / "mail-dkim/corpus" / file;
        c.dns = root / "mail-dkim/FAKE_DNS.dat";
        if (f[6].starts_with("domainkeys")) {
            c.note = "legacy DomainKey-Signature only: a DKIM verifier reports none";
        } else {
            c.want = results_list(f[5]);
        }
        if (const auto o = kMailDkimOverrides.find(file); o != kMailDkimOverrides.end()) {
            c.want.assign(std::max<std::size_t>(1, c.want.size()), {o->second.first, ""});
            c.note = o->second.second;
        }
        if (const auto l = kMailDkimLegacy.find(file); l != kMailDkimLegacy.end()) {
            c.legacy_want = l->second;
        }
        cases.push_back(std::move(c));
    }
}

void add_dkimpy(const fs::path& root, std::vector<CorpusCase>& cases) {
    const fs::path data = root / "dkimpy/data";
    const fs::path dns = root / "dkimpy/keys.dat";
    auto add = [&](std::string file, std::vector<Expected> want, std::string note = "") {
        cases.push_back(CorpusCase{
            test_name("dkimpy", file), data / file, dns, std::move(want), std::move(note), {}});
    };
    add("rfc6376.signed.msg", {{"pass", "football.example.com"}, {"pass", "football.example.com"}},
        "RFC 8463 Appendix A.3: ed25519-sha256 and rsa-sha256 over the same message");
    add("ed25519test2.msg", {{"pass", "test.ex"}});
    add("test2.message", {{"pass", "gmail.com"}});
    add("message.mbox", {{"permerror", "kitterman.com"}}, "key not provided: no key record");
    for (const char* unsigned_file : {"test.message", "rfc6376.msg", "ed25519test.msg",
                                      "test_extra.message", "test_nofrom.message"}) {
        add(unsigned_file, {}, "unsigned: none");
    }
}

void add_rspamd(const fs::path& root, std::vector<CorpusCase>& cases) {
    const std::map<std::string, std::string> overrides = {
        {"messages/dmarc/bad_dkim2.eml", "permerror|README: a record without DKIM tags (no p=)"},
        {"messages/dmarc/bad_dkim1.eml", "permerror|README: p=BARF is not a key"},
        {"messages/dmarc/bad_dkim3.eml", "temperror|README: the key lookup times out"},
        {"messages/dkim_broken_key.eml", "permerror|README: unknown key type k=ed2024"},
        {"messages/dkim_revoked_key.eml", "permerror|README: key record without p="},
        {"messages/dkim_huge_hlist.eml",
         "permerror|the fixture has no key at sel._domainkey.example.com: RFC 6376 §6.1.2 "
         "no key is PERMFAIL; rspamd expects only 'not pass', dkimpy's verify() is False"},
        {"messages/dkim_key_wide_ok.eml",
         "fail|README: an 8192-bit key is accepted (max_rsa_bits), the signature does not match"},
    };
    std::ifstream in(root / "rspamd/expected.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto f = util::split(line, '\t');
        if (f.size() < 6) {
            continue;
        }
        const std::string file(f[0]);
        CorpusCase c;
        c.name = test_name("rspamd",
                           file.substr(file.find('/') + 1, file.rfind('.') - file.find('/') - 1));
        c.message = root / "rspamd" / file;
        c.dns = root / "rspamd/keys.dat";
        for (const auto item : util::split(f[5], ' ')) {
            const auto colon = item.rfind(':');
            const std::string domain(item.substr(0, colon));
            const std::string result(item.substr(colon + 1));
            if (result != "none") {
                c.want.push_back({result, domain});
            }
        }
        if (const auto o = overrides.find(file); o != overrides.end()) {
            const auto bar = o->second.find('|');
            for (auto& w : c.want) {
                w.result = o->second.substr(0, bar);
            }
            c.note = o->second.substr(bar + 1) + "; dkimpy: " + std::string(f[5]);
        }
        cases.push_back(std::move(c));
    }
}

std::vector<CorpusCase> load_cases() {
    std::vector<CorpusCase> cases;
    if (const auto root = dkim_corpus()) {
        add_mail_dkim(*root, cases);
        add_dkimpy(*root, cases);
        add_rspamd(*root, cases);
    }
    if (cases.empty()) {
        cases.push_back(CorpusCase{"corpus_absent", {}, {}, {}, {}, {}});
    }
    return cases;
}

struct Counts {
    std::atomic<int> passed{0}, failed{0}, skipped{0};
};
Counts& counts() {
    static Counts c;
    return c;
}

class SummaryEnvironment : public ::testing::Environment {
  public:
    void TearDown() override {
        std::cout << "[dkim conformance] " << counts().passed << " passed, " << counts().failed
                  << " failed, " << counts().skipped << " skipped\n";
    }
};
[[maybe_unused]] const auto* const kSummary =
    ::testing::AddGlobalTestEnvironment(new SummaryEnvironment);

std::string read_crlf(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return normalize_line_ends(ss.str());  // as MTAs hand it (README: feed CRLF)
}

std::string describe(const std::vector<SignatureResult>& results) {
    std::string out;
    for (const auto& r : results) {
        out += "\n  d=" + r.domain + " s=" + r.selector + " a=" + r.algorithm + " -> " +
               std::string(to_string(r.result)) + " (" + r.reason + ")";
    }
    return out.empty() ? "\n  (no signatures)" : out;
}

class DkimCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(DkimCorpus, VerdictPerSignature) {
    const CorpusCase& c = GetParam();
    if (c.message.empty()) {
        ++counts().skipped;
        GTEST_SKIP() << "DKIM corpora not found: set MAILWARDEN_CORPORA or provide "
                        "../shared/corpora/dkim beside the checkout";
    }
    if (!c.note.empty()) {
        std::cout << "  note: " << c.note << "\n";
    }
    dns::StaticResolver zone;
    ASSERT_TRUE(testing::load_fake_dns(c.dns, zone)) << c.dns;
    const std::string message = read_crlf(c.message);
    ASSERT_FALSE(message.empty()) << c.message;
    const auto results = verify_message(zone, message, Options{}, kNow);
    const std::string got = describe(results);
    EXPECT_EQ(results.size(), c.want.size()) << got;
    for (std::size_t i = 0; i < std::min(results.size(), c.want.size()); ++i) {
        EXPECT_EQ(to_string(results[i].result), c.want[i].result) << "signature " << i << got;
        if (!c.want[i].domain.empty()) {
            EXPECT_EQ(results[i].domain, c.want[i].domain) << "signature " << i;
        }
        EXPECT_FALSE(results[i].reason.empty()) << "signature " << i;
    }
    if (!c.legacy_want.empty()) {
        Options legacy;
        legacy.allow_rsa_sha1 = true;
        legacy.min_rsa_bits = 512;
        const auto lr = verify_message(zone, message, legacy, kNow);
        ASSERT_EQ(lr.size(), c.legacy_want.size()) << describe(lr);
        for (std::size_t i = 0; i < lr.size(); ++i) {
            EXPECT_EQ(to_string(lr[i].result), c.legacy_want[i])
                << "legacy mode, signature " << i << describe(lr);
        }
    }
    if (HasFailure()) {
        ++counts().failed;
    } else {
        ++counts().passed;
    }
}

INSTANTIATE_TEST_SUITE_P(Corpora, DkimCorpus, ::testing::ValuesIn(load_cases()),
                         [](const auto& p) { return p.param.name; });

// The dkimpy key record files: which must be refused, which are keys.
TEST(DkimCorpusKeyRecords, DkimpyKeyFiles) {
    const auto root = dkim_corpus();
    if (!root) {
        GTEST_SKIP() << "DKIM corpora not found: set MAILWARDEN_CORPORA";
    }
    auto read = [&](const char* file) {
        std::ifstream in(*root / "dkimpy/data" / file);
        std::stringstream ss;
        ss << in.rdbuf();
        return std::string(util::trim(ss.str()));
    };
    Signature rsa_sig;
    rsa_sig.algorithm = Algorithm::RsaSha256;
    for (const char* good : {"test.txt", "test2.txt"}) {
        SCOPED_TRACE(good);
        auto key = parse_key_record(read(good));
        ASSERT_TRUE(key.has_value()) << key.error();
        EXPECT_EQ(check_key_usable(*key, rsa_sig), "");
    }
    EXPECT_FALSE(parse_key_record(read("badk.txt")).has_value());        // k=ed25519-sha256
    EXPECT_FALSE(parse_key_record(read("badversion.txt")).has_value());  // v=DKIM1:
    auto tlsrpt = parse_key_record(read("test_tlsrpt.txt"));             // s=tlsrpt
    ASSERT_TRUE(tlsrpt.has_value());
    EXPECT_EQ(check_key_usable(*tlsrpt, rsa_sig), "key record s= does not allow email");
    // test_bad.txt: a truncated RSA key, refused when the key itself is read.
    auto bad = parse_key_record(read("test_bad.txt"));
    ASSERT_TRUE(bad.has_value()) << bad.error();
    auto bad_key = PublicKey::parse(bad->type, bad->public_key);
    ASSERT_FALSE(bad_key.has_value());
    EXPECT_EQ(bad_key.error(), "p= is not an RSA public key");
    auto good = parse_key_record(read("test.txt"));
    ASSERT_TRUE(good.has_value());
    auto good_key = PublicKey::parse(good->type, good->public_key);
    ASSERT_TRUE(good_key.has_value()) << good_key.error();
    EXPECT_EQ(good_key->bits(), 1024u);
}

}  // namespace
}  // namespace mailwarden::auth::dkim
