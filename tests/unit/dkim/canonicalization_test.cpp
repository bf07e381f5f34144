// canonicalization_test.cpp - RFC 6376 §3.4 (examples of §3.4.6) and streaming invariance.
#include "auth/dkim/canonicalization.hpp"

#include <gtest/gtest.h>

#include <random>

#include "auth/dkim/crypto.hpp"

namespace mailwarden::auth::dkim {
namespace {

std::string canon_body(Canonicalization c, std::string_view body) {
    BodyCanonicalizer canon(c);
    std::string out;
    canon.update(body, out);
    canon.finish(out);
    return out;
}

std::string canon_header(Canonicalization c, std::string_view name, std::string_view value) {
    std::string out;
    canonicalize_header(c, name, value, out);
    return out;
}

// RFC 6376 §3.4.6, the example message.
TEST(DkimCanonicalization, Rfc6376Section346Headers) {
    EXPECT_EQ(canon_header(Canonicalization::Relaxed, "A", " X"), "a:X\r\n");
    EXPECT_EQ(canon_header(Canonicalization::Relaxed, "B ", " Y\t\r\n\tZ  "), "b:Y Z\r\n");
    EXPECT_EQ(canon_header(Canonicalization::Simple, "A", " X"), "A: X\r\n");
    EXPECT_EQ(canon_header(Canonicalization::Simple, "B ", " Y\t\r\n\tZ  "),
              "B : Y\t\r\n\tZ  \r\n");
}

TEST(DkimCanonicalization, Rfc6376Section346Body) {
    const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, body), " C\r\nD E\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Simple, body), " C \r\nD \t E\r\n");
}

TEST(DkimCanonicalization, EmptyAndMissingBodies) {
    EXPECT_EQ(canon_body(Canonicalization::Simple, ""), "\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, ""), "");
    EXPECT_EQ(canon_body(Canonicalization::Simple, "\r\n\r\n"), "\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, "\r\n \t\r\n"), "");
    EXPECT_EQ(canon_body(Canonicalization::Simple, "abc"), "abc\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, "abc  "), "abc\r\n");
}

TEST(DkimCanonicalization, WellKnownEmptyBodyHashes) {
    auto b64_hash = [](std::string_view canonical) {
        Hasher h(HashAlgorithm::Sha256);
        h.update(canonical);
        return h.finish();
    };
    // SHA-256 of "\r\n" and of "": the bh= every verifier computes for an empty body.
    EXPECT_EQ(b64_hash(canon_body(Canonicalization::Simple, "")).size(), 32u);
    EXPECT_EQ(b64_hash(canon_body(Canonicalization::Simple, "")), b64_hash("\r\n"));
    EXPECT_EQ(b64_hash(canon_body(Canonicalization::Relaxed, "")), b64_hash(""));
}

TEST(DkimCanonicalization, BareLineEndsAndInnerEmptyLines) {
    // A bare LF is a line end; a bare CR is content.
    EXPECT_EQ(canon_body(Canonicalization::Simple, "a\nb\n\n"), "a\r\nb\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Simple, "a\rb\r\n"), "a\rb\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, "a \r b\r\n"), "a \r b\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Simple, "a\r"), "a\r\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Simple, "a\r\n\r\n\r\nb\r\n\r\n"), "a\r\n\r\n\r\nb\r\n");
    EXPECT_EQ(canon_body(Canonicalization::Relaxed, "a\r\n  \r\n\tb \r\n"), "a\r\n\r\n b\r\n");
}

TEST(DkimCanonicalization, RelaxedHeaderUnfoldsBareLineEndsToo) {
    EXPECT_EQ(canon_header(Canonicalization::Relaxed, "Subject", " a\n b \r\n\tc"),
              "subject:a b c\r\n");
    EXPECT_EQ(normalize_line_ends(" a\n b\r\n c"), " a\r\n b\r\n c");
}

// RFC 6376 §3.4.4 applied the obvious way, one octet at a time, on a body of whole lines.
std::string naive_relaxed(std::string_view body) {
    std::string out;
    std::string line;
    std::size_t empty_run = 0;
    for (std::size_t at = 0; at < body.size();) {
        const std::size_t end = body.find("\r\n", at);
        std::string_view raw = body.substr(at, end - at);
        at = end + 2;
        line.clear();
        for (const char c : raw) {
            const bool wsp = c == ' ' || c == '\t';
            if (wsp && !line.empty() && line.back() == ' ') {
                continue;
            }
            line += wsp ? ' ' : c;
        }
        if (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        if (line.empty()) {
            ++empty_run;
            continue;
        }
        out.append(2 * empty_run, ' ');
        for (std::size_t i = out.size() - 2 * empty_run; i < out.size(); i += 2) {
            out[i] = '\r';
            out[i + 1] = '\n';
        }
        empty_run = 0;
        out += line + "\r\n";
    }
    return out;
}

// The whole-line fast path (eight octets at a time) agrees with the rules wherever the
// tab, the double space, the CR or the trailing space falls.
TEST(DkimCanonicalization, RelaxedFastPathAgreesWithTheRules) {
    const std::string base = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (const std::string special : {"  ", "\t", " \t ", "\r", " "}) {
        for (std::size_t at = 0; at <= base.size(); ++at) {
            const std::string line = base.substr(0, at) + special + base.substr(at);
            const std::string body = "x\r\n" + line + "\r\n" + line + " \r\n\r\ny\r\n";
            if (special == "\r") {
                // A bare CR is content: the line is kept as is.
                EXPECT_EQ(canon_body(Canonicalization::Relaxed, body),
                          "x\r\n" + line + "\r\n" + line + "\r\n\r\ny\r\n");
                continue;
            }
            ASSERT_EQ(canon_body(Canonicalization::Relaxed, body), naive_relaxed(body))
                << "special " << special.size() << " at " << at;
        }
    }
}

// Feeding a body in two pieces, split anywhere, gives the same bytes as in one piece; and
// so does feeding it one byte at a time.
TEST(DkimCanonicalization, ChunkSplitInvariance) {
    const std::string bodies[] = {
        "Hello  world \t\r\n\r\n  line\r\n\r\n\r\n",
        "a\r\rb\r\n\r\r\n \r\n\tx\ty  \r\n\r\n",
        "bare\nlf\n\n\r\nmixed \r\n\r",
        " \t \r\n\r\n",
        "no final line end  \t",
        "\r\n\r\nstarts with empty lines\r\n",
    };
    for (const Canonicalization c : {Canonicalization::Simple, Canonicalization::Relaxed}) {
        for (const std::string& body : bodies) {
            const std::string whole = canon_body(c, body);
            for (std::size_t i = 0; i <= body.size(); ++i) {
                for (std::size_t j = i; j <= body.size(); ++j) {
                    BodyCanonicalizer canon(c);
                    std::string out;
                    canon.update(std::string_view(body).substr(0, i), out);
                    canon.update(std::string_view(body).substr(i, j - i), out);
                    canon.update(std::string_view(body).substr(j), out);
                    canon.finish(out);
                    ASSERT_EQ(out, whole) << "split at " << i << "," << j;
                }
            }
            BodyCanonicalizer canon(c);
            std::string out;
            for (const char ch : body) {
                canon.update(std::string_view(&ch, 1), out);
            }
            canon.finish(out);
            EXPECT_EQ(out, whole);
        }
    }
}

// Random bodies over the octets that matter (SP, HTAB, CR, LF, text), long enough for the
// sixteen-octet scan, fed in random pieces: the same bytes as one octet at a time (the
// byte-wise machine), and as the naive rules where every line end is CRLF.
TEST(DkimCanonicalization, RandomBodiesAgreeWithTheByteWiseMachineAndTheRules) {
    std::mt19937 random(20261204);
    const std::string_view alphabet[] = {
        "a", "b", " ", "  ", "\t", "\r", "\n", "\r\n", "\r\n", "\r\n\r\n", "0123456789abcdef"};
    for (int round = 0; round < 3000; ++round) {
        std::string body;
        const std::size_t pieces = random() % 60;
        for (std::size_t k = 0; k < pieces; ++k) {
            std::string_view piece = alphabet[random() % std::size(alphabet)];
            if ((round % 2) == 0 && (piece == "\r" || piece == "\n")) {
                piece = "\r\n";  // half the rounds: CRLF line ends only
            }
            body += piece;
        }
        const bool crlf_only = (round % 2) == 0 && (body.empty() || body.ends_with("\r\n"));
        for (const Canonicalization c : {Canonicalization::Simple, Canonicalization::Relaxed}) {
            BodyCanonicalizer one(c);
            std::string slow;
            for (const char ch : body) {
                one.update(std::string_view(&ch, 1), slow);
            }
            one.finish(slow);
            BodyCanonicalizer many(c);
            std::string fast;
            for (std::size_t at = 0; at < body.size();) {
                const std::size_t n = 1 + random() % 100;
                many.update(std::string_view(body).substr(at, n), fast);
                at += n;
            }
            many.finish(fast);
            ASSERT_EQ(fast, slow) << "round " << round << " body '" << body << "'";
            if (c == Canonicalization::Relaxed && crlf_only) {
                ASSERT_EQ(fast, naive_relaxed(body)) << "round " << round;
            }
        }
    }
}

}  // namespace
}  // namespace mailwarden::auth::dkim
