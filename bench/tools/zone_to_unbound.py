#!/usr/bin/python3
"""zone_to_unbound.py - bench/zone.yaml (the static-resolver zonedata format) as unbound
local-data, so that every milter of a benchmark run asks one DNS server the same questions.

    zone_to_unbound.py ZONE.yaml > local-data.conf

Prints `local-zone: "." static` (nothing is ever asked upstream: a name that is not in the
zone is NXDOMAIN, answered from loopback) and one `local-data:` line per record. TXT values
longer than 255 octets are split into several character-strings (RFC 1035 3.3.14), as a
DKIM key of 2048 bits must be. Handles the record types the bench zone uses: A, AAAA, TXT,
MX, PTR, CNAME; anything else is an error naming the entry.
"""
import sys

import yaml


def txt_strings(value):
    data = value.encode()
    parts = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join('"' + p.decode().replace("\\", "\\\\").replace('"', '\\"') + '"'
                    for p in parts)


def records(name, items):
    fqdn = name.rstrip(".") + "."
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(f"{name}: each record is one {{TYPE: value}} map")
        (rtype, value), = item.items()
        rtype = rtype.upper()
        if rtype in ("TXT", "SPF"):
            yield f"{fqdn} 3600 IN TXT {txt_strings(str(value))}"
        elif rtype in ("A", "AAAA", "PTR", "CNAME"):
            target = str(value)
            if rtype in ("PTR", "CNAME"):
                target = target.rstrip(".") + "."
            yield f"{fqdn} 3600 IN {rtype} {target}"
        elif rtype == "MX":
            preference, exchange = value
            yield f"{fqdn} 3600 IN MX {int(preference)} {str(exchange).rstrip('.')}."
        else:
            raise ValueError(f"{name}: record type {rtype} is not supported here")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: zone_to_unbound.py ZONE.yaml")
    with open(sys.argv[1]) as f:
        zone = yaml.safe_load(f)
    if isinstance(zone, dict) and "zonedata" in zone:
        zone = zone["zonedata"]
    if not isinstance(zone, dict):
        sys.exit(f"{sys.argv[1]}: not a map of names")
    print('local-zone: "." static')
    try:
        for name, items in zone.items():
            for rr in records(str(name), items or []):
                print(f"local-data: '{rr}'")
    except ValueError as e:
        sys.exit(f"{sys.argv[1]}: {e}")


if __name__ == "__main__":
    main()
