"""Summarises inline.txt and aio.txt: how each NOWAIT read was answered, and how long the call took."""
import re
import statistics
from collections import defaultdict


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def show(title, groups):
    print(title)
    for key in sorted(groups):
        us = [ns / 1000 for ns in groups[key]]
        print(f"  {key:<34} n={len(us):>3}  p50 {statistics.median(us):8.1f} us  p90 {pct(us, 90):8.1f}"
              f"  max {max(us):8.1f}")


inline = defaultdict(list)
for line in open("inline.txt"):
    f = dict(re.findall(r"(\w+)=(\S+)", line))
    outcome = "stopped short (MISSED)" if f["answer"] == "MISSED" else f"whole ({f['answer']} bytes)"
    inline[outcome].append(int(f["call_ns"]))
show("readAtOnce, 64 KiB, first 16 KiB cached, warmed descriptor (call time):", inline)

aio = defaultdict(list)
for line in open("aio.txt"):
    f = dict(re.findall(r"(\w+)=(\S+)", line))
    aio[f"{f['descriptor']} descriptor, {f['answer']}"].append(int(f["ns"]))
show("kernel AIO read with RWF_NOWAIT, 4 KiB at 0, file evicted (submit to completion):", aio)
