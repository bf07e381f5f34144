#!/usr/bin/python3
"""Loopback "remote MTA" for mailwarden's end-to-end tests (Debian python3-aiosmtpd).

Every domain that the private Postfix does not deliver locally ends up here. Replies are
scripted per recipient local part (case-insensitive, "+tag" ignored) by a rules file:

    # localpart  stage  reply        (" | " separates the lines of a multi-line reply)
    unknown      RCPT   550 5.1.1 No such user | here
    spam         DATA   554 5.7.1 Rejected as spam

RCPT rules answer RCPT TO; DATA rules accept the recipient and answer the end of DATA.
Other recipients are accepted; each accepted message is written to --store as
<time>-<n>.eml with X-Sink-* envelope headers first. Exits on SIGTERM/SIGINT or after
--lifetime seconds.
"""
import argparse
import asyncio
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


def smtp_lines(spec):
    """'550 5.1.1 a | b' -> '550-5.1.1 a\\r\\n550 5.1.1 b'."""
    parts = [p.strip() for p in spec.split(" | ")]
    words = parts[0].split(None, 2)
    code = words[0]
    if len(code) != 3 or not code.isdigit():
        raise ValueError(f"reply must start with a 3-digit code: {spec!r}")
    enhanced = ""
    first = parts[0][3:].strip()
    if len(words) > 1 and words[1][0] in "245" and words[1].count(".") == 2:
        enhanced = words[1] + " "
        first = first[len(words[1]):].strip()
    texts = [first] + parts[1:]
    return "\r\n".join(
        f"{code}{'-' if i < len(texts) - 1 else ' '}{enhanced}{t}" for i, t in enumerate(texts))


def read_rules(path):
    rules = {}
    if not path:
        return rules
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 2)
            if len(fields) != 3 or fields[1].upper() not in ("RCPT", "DATA"):
                sys.exit(f"{path}:{number}: want 'localpart RCPT|DATA reply'")
            try:
                rules[fields[0].lower()] = (fields[1].upper(), smtp_lines(fields[2]))
            except ValueError as e:
                sys.exit(f"{path}:{number}: {e}")
    return rules


def key(address):
    return address.rsplit("@", 1)[0].split("+", 1)[0].lower()


def note(text):
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


class Sink:
    def __init__(self, rules, store):
        self.rules = rules
        self.store = store
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        rule = self.rules.get(key(address))
        if rule and rule[0] == "RCPT":
            note(f"RCPT <{address}> refused: {rule[1].splitlines()[0]}")
            return rule[1]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        note(f"RCPT <{address}> ok")
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            rule = self.rules.get(key(rcpt))
            if rule and rule[0] == "DATA":
                note(f"DATA from <{envelope.mail_from}> refused: {rule[1].splitlines()[0]}")
                return rule[1]
        self.count += 1
        name = f"{time.time_ns()}-{self.count:05d}.eml"
        head = (f"X-Sink-Mail-From: <{envelope.mail_from}>\r\n"
                f"X-Sink-Rcpt-To: {', '.join(f'<{r}>' for r in envelope.rcpt_tos)}\r\n")
        partial = os.path.join(self.store, "." + name)
        with open(partial, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(partial, os.path.join(self.store, name))
        note(f"DATA from <{envelope.mail_from}> stored as {name}")
        return f"250 2.0.0 Ok: queued as SINK{self.count}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--rules")
    parser.add_argument("--lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    os.makedirs(args.store, exist_ok=True)
    sink = Sink(read_rules(args.rules), args.store)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(sink, hostname="sink.remote.test", ident="mailwarden-e2e sink",
                     decode_data=False, enable_SMTPUTF8=True, loop=loop),
        host="127.0.0.1", port=args.port))
    done = loop.create_future()

    def finish():
        if not done.done():
            done.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)
    loop.call_later(args.lifetime, finish)
    note(f"listening on 127.0.0.1:{args.port} with {len(sink.rules)} rules")
    loop.run_until_complete(done)
    server.close()
    loop.run_until_complete(server.wait_closed())
    note("stopped")


if __name__ == "__main__":
    main()
