#!/usr/bin/env python3
"""CPU time by thread name (digits dropped) in a `perf sched timehist` listing: run time summed per name."""
import collections, re, sys
pat = re.compile(r'^\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\[(\d+)(?:/\d+)?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s')
run = collections.Counter(); t0 = t1 = None
for line in open(sys.argv[1]):
    m = pat.match(line)
    if not m:
        continue
    t = float(m.group(1)); t0 = t if t0 is None else t0; t1 = t
    run[re.sub(r'[\d-]+$', '', m.group(3).strip())] += float(m.group(7))
print('%.0f ms recorded on 2 CPUs; run time by thread name (ms):' % ((t1 - t0) * 1e3))
for name, ms in run.most_common(12):
    print('  %-24s %7.1f' % (name, ms))
