# diff.py RUN.jsonl PROFILE_A ENGINE_A PROFILE_B ENGINE_B: each symbol's share of the samples (perf report --sort
# dso,sym -g none) times the engine's CPU per request (from the run's JSON): ns per request in A and B, by difference.
import json, re, sys
run, pa, ea, pb, eb = sys.argv[1:6]
cpu = {}
for line in open(run):
    r = json.loads(line)
    cpu[r['engine']] = r['cpu_us_per_op']
def load(path):
    d = {}
    for line in open(path):
        m = re.match(r'\s*([\d.]+)%\s+(\[JIT\] tid \d+|\S+)\s+\[(.)\]\s+(.*)', line)
        if m:
            sym = ('JIT:' if 'JIT' in m.group(2) else '') + m.group(4).strip()
            d[sym] = d.get(sym, 0) + float(m.group(1))
    return d
a, b = load(pa), load(pb)
rows = sorted(((a.get(s, 0) * cpu[ea] - b.get(s, 0) * cpu[eb]) * 10, s, a.get(s, 0) * cpu[ea] * 10,
               b.get(s, 0) * cpu[eb] * 10) for s in set(a) | set(b))
rows.reverse()
print('%s %.3f µs/op, %s %.3f µs/op; ns per request: A-B, A, B' % (ea, cpu[ea], eb, cpu[eb]))
for d, s, x, y in rows:
    if abs(d) >= 5:
        print('%7.0f %7.0f %7.0f  %s' % (d, x, y, s[:110]))
