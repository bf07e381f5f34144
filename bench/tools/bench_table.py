#!/usr/bin/python3
"""bench_table.py - the tables of bench/run.sh from its rows (one JSON object per line).

    bench_table.py ROWS.jsonl [--long LONG.json]

Each row is miltload's --json output plus what run.sh measured around it: workload, milter,
rep, cpu_seconds (utime+stime of the milter's processes during the measured run),
loadgen_cpu_seconds, rss_hwm_kb (VmHWM, summed over the milter's processes), pss_kb (summed
Pss at the end), loadavg, redis (EVALSHA and other command calls during the run).
Repeated runs of a (workload, milter, connections) are summarized by their median.
Prints markdown: the result table, mailwarden's ratio to every other milter of the same
workload and connection count, and each target of issue 7 with the measured figure.
"""
import json
import statistics
import sys

WORKLOADS = {
    "a": "(a) accept-only pipeline",
    "b": "(b) full inbound checks",
    "c": "(c) outbound, rate limits over 10,000 logins",
    "d": "(d) bounce explanation (10 KB DSN)",
}
ORDER = ["mailwarden", "acceptall", "rspamd", "opendkim", "opendmarc"]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows):
    groups = {}
    for r in rows:
        key = (r["workload"], r["milter"], r["connections"])
        groups.setdefault(key, []).append(r)
    out = {}
    for key, rs in groups.items():
        msgs = [r["messages"] for r in rs]
        out[key] = {
            "runs": len(rs),
            "messages": sum(msgs),
            "mps": median([r["messages_per_second"] for r in rs]),
            "p50": median([r["latency_ms"]["p50"] for r in rs]),
            "p99": median([r["latency_ms"]["p99"] for r in rs]),
            "cpu1000": median([1000 * r["cpu_seconds"] / r["messages"] if r["messages"] else None
                               for r in rs]),
            "gen1000": median([1000 * r["loadgen_cpu_seconds"] / r["messages"]
                               if r["messages"] and r.get("loadgen_cpu_seconds") is not None
                               else None for r in rs]),
            "rss": median([r["rss_hwm_kb"] / 1024 for r in rs]),
            "pss": median([r["pss_kb"] / 1024 if r.get("pss_kb") else None for r in rs]),
            "errors": sum(r["errors"] for r in rs),
            "actions": merge_actions(rs),
            "load": ", ".join(r["loadavg"] for r in rs),
            "evalsha": median([r["redis"]["evalsha"] / r["messages"] if r["messages"] and
                               r.get("redis") else None for r in rs]),
            "redis_other": median([r["redis"]["other"] / r["messages"] if r["messages"] and
                                   r.get("redis") else None for r in rs]),
        }
    return out


def merge_actions(rs):
    total = {}
    for r in rs:
        for k, v in r["actions"].items():
            total[k] = total.get(k, 0) + v
    return " ".join(f"{k} {v}" for k, v in sorted(total.items()))


def fmt(v, spec=".0f", none="-"):
    return none if v is None else format(v, spec)


def milter_order(m):
    return ORDER.index(m) if m in ORDER else len(ORDER)


def print_results(summary):
    print("| workload | milter | conns | runs | messages | msg/s | p50 ms | p99 ms |"
          " CPU s /1000 msg | peak RSS MB | PSS MB | load gen CPU s /1000 | Redis EVALSHA/msg |"
          " other Redis cmds/msg | errors | actions | load average at start |")
    print("|" + "---|" * 17)
    for key in sorted(summary, key=lambda k: (k[0], k[2], milter_order(k[1]))):
        w, m, c = key
        s = summary[key]
        print(f"| {w} | {m} | {c} | {s['runs']} | {s['messages']} | {fmt(s['mps'])} |"
              f" {fmt(s['p50'], '.2f')} | {fmt(s['p99'], '.2f')} | {fmt(s['cpu1000'], '.3f')} |"
              f" {fmt(s['rss'], '.1f')} | {fmt(s['pss'], '.1f')} | {fmt(s['gen1000'], '.3f')} |"
              f" {fmt(s['evalsha'], '.2f')} | {fmt(s['redis_other'], '.3f')} | {s['errors']} |"
              f" {s['actions']} | {s['load']} |")


def print_ratios(summary):
    lines = []
    for (w, m, c), s in sorted(summary.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        if m == "mailwarden":
            continue
        mw = summary.get((w, "mailwarden", c))
        if not mw or not s["mps"]:
            continue
        cpu = (mw["cpu1000"] / s["cpu1000"]) if mw["cpu1000"] and s["cpu1000"] else None
        lines.append(f"| {w} | {c} | {m} | {mw['mps'] / s['mps']:.2f}x |"
                     f" {fmt(mw['p99'] / s['p99'] if s['p99'] else None, '.2f')}x |"
                     f" {fmt(cpu, '.2f')}x | {fmt(mw['rss'] / s['rss'] if s['rss'] else None, '.2f')}x |")
    if lines:
        print("\nmailwarden relative to each peer (same workload, same connections; msg/s above"
              " 1 is faster, p99/CPU/RSS below 1 is better):\n")
        print("| workload | conns | peer | msg/s | p99 | CPU s/1000 | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(lines))


def verdict(ok):
    return "met" if ok else "NOT met"


def print_targets(summary, long_run):
    def get(w, m, c):
        return summary.get((w, m, c))

    print("\nTargets of issue 7:\n")
    print("| target | measured | |")
    print("|---|---|---|")
    b16, floor16, rsp16 = get("b", "mailwarden", 16), get("b", "acceptall", 16), get("b", "rspamd", 16)
    if b16 and floor16:
        pct = 100 * b16["mps"] / floor16["mps"]
        print(f"| (b) full inbound >= 70 % of the accept-all floor, 16 conns |"
              f" {pct:.0f} % ({b16['mps']:.0f} / {floor16['mps']:.0f} msg/s) | {verdict(pct >= 70)} |")
        ratio = b16["p50"] / floor16["p50"] if floor16["p50"] else None
        if ratio is not None:
            print(f"| median latency at 16 conns within 2x the floor's |"
                  f" {ratio:.2f}x ({b16['p50']:.2f} / {floor16['p50']:.2f} ms) | {verdict(ratio <= 2)} |")
    if b16 and rsp16:
        x = b16["mps"] / rsp16["mps"]
        print(f"| (b) full inbound >= 1.3x rspamd, 16 conns | {x:.2f}x | {verdict(x >= 1.3)} |")
    if b16 and b16["cpu1000"] is not None:
        print(f"| (b) full inbound <= 0.6 CPU-s per 1,000 messages, 16 conns |"
              f" {b16['cpu1000']:.3f} | {verdict(b16['cpu1000'] <= 0.6)} |")
    for c in (16, 256):
        oc = get("c", "mailwarden", c)
        if oc and oc["evalsha"] is not None:
            print(f"| (c) outbound: one Redis round trip per message for all buckets, {c} conns |"
                  f" {oc['evalsha']:.2f} EVALSHA + {oc['redis_other']:.3f} other commands per message"
                  f" | {verdict(abs(oc['evalsha'] - 1) < 0.01)} |")
    worst = None
    for (w, m, c), s in summary.items():
        if m == "mailwarden" and c == 256 and s["rss"] is not None:
            worst = max(worst or 0, s["rss"])
    if worst is not None:
        print(f"| 256 connections held under 32 MB RSS | peak {worst:.1f} MB over the 256-connection"
              f" rows | {verdict(worst < 32)} |")
    if long_run:
        grow = long_run["rss_end_kb"] - long_run["rss_start_kb"]
        print(f"| no RSS growth over a long run ({long_run['messages']} messages asked for"
              f" {long_run['messages_requested']}, 256 conns) | start {long_run['rss_start_kb'] / 1024:.1f} MB,"
              f" end {long_run['rss_end_kb'] / 1024:.1f} MB, peak {long_run['rss_hwm_kb'] / 1024:.1f} MB"
              f" ({grow / 1024:+.1f} MB) | {verdict(long_run['rss_hwm_kb'] < 32 * 1024 and grow < 1024)} |")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: bench_table.py ROWS.jsonl [--long LONG.json]")
    long_run = None
    if "--long" in args:
        i = args.index("--long")
        with open(args[i + 1]) as f:
            long_run = json.load(f)
        del args[i:i + 2]
    summary = summarize(load(args[0]))
    if summary:
        print_results(summary)
        print_ratios(summary)
    print_targets(summary, long_run)


if __name__ == "__main__":
    main()
