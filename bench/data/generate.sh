#!/usr/bin/env bash
# generate.sh - regenerates the benchmark's test data: the DKIM test key, the messages and
# the DNS zone that publishes the key.
#
#   bench/data/generate.sh [--new-key]
#
# Writes, next to this script:
#   dkim-bench.key        rsa-2048 private key (TEST ONLY: published in this repository)
#   signed-4k.eml         a 4 KB inbound message from bench-sender.example, signed by dkimpy
#                         (rsa-sha256, relaxed/relaxed) with that key
#   unsigned-4k.eml       the same message without its signature
#   outbound-2k.eml       a 2 KB message from bench.example, for the outbound workload
#   dsn-10k.eml           a 10 KB Postfix non-delivery report (multipart/report, one failed
#                         recipient, the returned message)
# and ../zone.yaml (the zone of every bench domain: SPF, DKIM key, DMARC).
# The key is kept unless --new-key is given (or it is missing), so the committed messages
# and zone stay consistent. Needs openssl and Debian's python3-dkim (dkimpy).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3  # Debian's python3-dkim is not visible to a pyenv/venv python
command -v openssl >/dev/null || { echo "generate.sh: openssl missing" >&2; exit 1; }
"$py" -c 'import dkim' 2>/dev/null || {
    echo "generate.sh: dkimpy missing (apt-get install python3-dkim)" >&2
    exit 1
}

key="$here/dkim-bench.key"
if [ "${1:-}" = "--new-key" ] || [ ! -s "$key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
fi
pubkey="$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | base64 -w0)"

"$py" - "$here" "$key" "$pubkey" <<'PY'
import os
import sys

import dkim

here, key_path, pubkey = sys.argv[1], sys.argv[2], sys.argv[3]
selector, domain = b"bench2026", b"bench-sender.example"
CRLF = "\r\n"


def write(name, text):
    # Files are written with LF line ends (readable, diffable); miltload, Postfix's
    # smtp-source and the peers' load generators send CRLF.
    with open(os.path.join(here, name), "w", newline="\n") as f:
        f.write(text.replace(CRLF, "\n"))


def paragraph(i):
    return (
        f"Paragraph {i:02} of the mailwarden benchmark message. It is plain text so that\r\n"
        "every milter in the comparison does the same work on it: canonicalize the body,\r\n"
        "hash it, verify one rsa-2048 signature and look up the policy of the domain.\r\n"
        "\r\n"
    )


headers = [
    ("From", "Alice Bench <alice@bench-sender.example>"),
    ("To", "Bob Local <bob@local.test>"),
    ("Subject", "Benchmark message, 4 KB, signed with rsa-2048"),
    ("Date", "Mon, 23 Nov 2026 12:00:00 +0000"),
    ("Message-ID", "<bench-4k-0001@bench-sender.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
    ("Content-Transfer-Encoding", "7bit"),
]
head = "".join(f"{n}: {v}{CRLF}" for n, v in headers)
body = ""
i = 0
# 4 KB in all, signature included (the signature field is about 520 bytes).
while len(head) + len(body) + 520 < 4096 - 260:
    body += paragraph(i)
    i += 1
body += "-- " + CRLF + "Alice" + CRLF
message = head + CRLF + body
with open(key_path, "rb") as f:
    private_key = f.read()
signature = dkim.sign(
    message.encode(),
    selector,
    domain,
    private_key,
    canonicalize=(b"relaxed", b"relaxed"),
    include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                     b"content-type"],
).decode()
signed = signature + message
assert dkim.verify(
    signed.encode(),
    dnsfunc=lambda name, timeout=5: f"v=DKIM1; k=rsa; p={pubkey}".encode(),
), "dkimpy cannot verify its own signature"
write("signed-4k.eml", signed)
write("unsigned-4k.eml", message)

out_headers = [
    ("From", "Bench User <user@bench.example>"),
    ("To", "Customer <customer@remote.test>"),
    ("Subject", "Your order has shipped"),
    ("Date", "Mon, 23 Nov 2026 12:00:00 +0000"),
    ("Message-ID", "<bench-out-0001@bench.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=us-ascii"),
]
out = "".join(f"{n}: {v}{CRLF}" for n, v in out_headers) + CRLF
j = 0
while len(out) < 2048 - 80:
    out += f"Line {j:02} of the outbound benchmark message: a customer notification.{CRLF}"
    j += 1
write("outbound-2k.eml", out)

# A Postfix non-delivery report as bounce(8) writes it (see ../shared/e2e results), 10 KB.
boundary = "B3E1A72681.1795447132/mx.local.test"
returned = (
    "Return-Path: <alice@local.test>\r\n"
    "Received: from client.local.test (client.local.test [192.0.2.10])\r\n"
    "\tby mx.local.test (Postfix) with ESMTPSA id B3E1A72681\r\n"
    "\tfor <unknown@remote.test>; Mon, 23 Nov 2026 15:18:52 +0000 (UTC)\r\n"
    "Date: Mon, 23 Nov 2026 15:18:50 +0000\r\n"
    "From: Alice <alice@local.test>\r\n"
    "To: unknown@remote.test\r\n"
    "Subject: Meeting notes\r\n"
    "Message-ID: <notes-0001@local.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
)
dsn_head = (
    "Date: Mon, 23 Nov 2026 15:18:52 +0000 (UTC)\r\n"
    "From: Mail Delivery System <MAILER-DAEMON@mx.local.test>\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "To: alice@local.test\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    f'\tboundary="{boundary}"\r\n'
    "Content-Transfer-Encoding: 8bit\r\n"
    "Message-Id: <20261123151852.C5C42A72346@mx.local.test>\r\n"
    "\r\n"
)
notification = (
    "This is a MIME-encapsulated message.\r\n\r\n"
    f"--{boundary}\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "This is the mail system at host mx.local.test.\r\n\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients. It's attached below.\r\n\r\n"
    "For further assistance, please send mail to postmaster.\r\n\r\n"
    "If you do so, please include this problem report. You can\r\n"
    "delete your own text from the attached returned message.\r\n\r\n"
    "                   The mail system\r\n\r\n"
    "<unknown@remote.test>: host mx.remote.test[203.0.113.25] said: 550 5.1.1\r\n"
    "    <unknown@remote.test>: Recipient address rejected: User unknown in virtual\r\n"
    "    mailbox table (in reply to RCPT TO command)\r\n\r\n"
    f"--{boundary}\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.local.test\r\n"
    "X-Postfix-Queue-ID: B3E1A72681\r\n"
    "X-Postfix-Sender: rfc822; alice@local.test\r\n"
    "Arrival-Date: Mon, 23 Nov 2026 15:18:52 +0000 (UTC)\r\n\r\n"
    "Final-Recipient: rfc822; unknown@remote.test\r\n"
    "Original-Recipient: rfc822;unknown@remote.test\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mx.remote.test\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <unknown@remote.test>: Recipient address\r\n"
    "    rejected: User unknown in virtual mailbox table\r\n\r\n"
    f"--{boundary}\r\n"
    "Content-Description: Undelivered Message\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
)
dsn = dsn_head + notification + returned
k = 0
tail = f"\r\n--{boundary}--\r\n"
while len(dsn) + len(tail) < 10240 - 90:
    dsn += f"Line {k:03} of the returned message: the notes of the meeting, kept as sent.\r\n"
    k += 1
dsn += tail
write("dsn-10k.eml", dsn)

# The zone, in the static-resolver format (dns.zone_file) that bench/run.sh also turns
# into unbound local-data.
zone = f"""# bench/zone.yaml - DNS zone of the benchmark domains (generated by bench/data/generate.sh).
# Served by unbound on loopback in bench/run.sh (every milter of a run asks the same server),
# or straight from this file by mailwarden's dns.zone_file. Format: name -> list of
# {{TYPE: value}} (the SPF test suite's zonedata).
#
# bench-sender.example  inbound sender: SPF allows the load generator's client addresses
#                       (10.0.0.0/8), DKIM key of selector bench2026, DMARC p=reject
# bench.example         outbound logins (miltload --login-domain bench.example): SPF
#                       allows the outbound IPs of the bench config, DMARC p=quarantine
# The names are under .example, not .test: unbound and libunbound answer every name under
# test. from a built-in local zone (RFC 6761) without asking any server.
bench-sender.example:
  - TXT: "v=spf1 ip4:10.0.0.0/8 -all"
  - MX: [10, mx.bench-sender.example]
mx.bench-sender.example:
  - A: 192.0.2.25
{selector.decode()}._domainkey.bench-sender.example:
  - TXT: "v=DKIM1; k=rsa; p={pubkey}"
_dmarc.bench-sender.example:
  - TXT: "v=DMARC1; p=reject; adkim=r; aspf=r"
bench.example:
  - TXT: "v=spf1 ip4:198.51.100.0/24 -all"
_dmarc.bench.example:
  - TXT: "v=DMARC1; p=quarantine"
"""
with open(os.path.join(here, "..", "zone.yaml"), "w") as f:
    f.write(zone)
print(f"signed-4k.eml {len(signed)} bytes, outbound-2k.eml {len(out)}, dsn-10k.eml {len(dsn)}")
PY
