#!/usr/bin/env python3
"""The never-block pass: for each case, the caller's time inside the submitting call (p99.9 and max, µs) and the
IOPS of panaio-async and jdk-afc, from this run's never-*.jsonl; panaio-async's p99.9 and max in the fifteenth run's
pass beside them; the steal in each engine's window and the JIT compilers' CPU in panaio-async's."""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
before = os.path.join(here, '..', '2026-12-01-15')

def load(where, name):
    path = os.path.join(where, name + '.jsonl')
    if not os.path.exists(path):
        return {}
    return {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}

print('%-16s %26s %26s %18s %16s %8s' % ('case', 'panaio-async p99.9/max/IOPS', 'jdk-afc p99.9/max/IOPS',
                                          'fifteenth: p99.9/max', 'steal async/jdk', 'jit s'))
for qd in (32, 256):
    for case in ('odirect', 'cached', 'uncached', 'randwrite', 'append'):
        name = 'never-%s-qd%d' % (case, qd)
        rows, old = load(here, name), load(before, name)
        if not rows:
            continue
        cells = []
        for engine in ('panaio-async', 'jdk-afc'):
            r = rows.get(engine)
            cells.append('%7.1f %8.0f %8.0f' % (r['submit_p999_us'], r['submit_max_us'], r['iops']) if r else '-')
        o = old.get('panaio-async')
        a, j = rows.get('panaio-async', {}), rows.get('jdk-afc', {})
        print('%-16s %26s %26s %18s %16s %8s' % (
            '%s qd %d' % (case, qd), cells[0], cells[1],
            '%.1f / %.0f' % (o['submit_p999_us'], o['submit_max_us']) if o else '-',
            '%s / %s' % (a.get('steal_ticks', '-'), j.get('steal_ticks', '-')), a.get('jit_cpu_s', '-')))
