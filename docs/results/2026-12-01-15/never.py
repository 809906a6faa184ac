#!/usr/bin/env python3
"""The never-block pass: for each case, the caller's time inside the submitting call (p99.9 and max, µs) and the
IOPS of panaio-async and jdk-afc, from this run's never-*.jsonl."""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
print('%-22s %28s %28s' % ('case', 'panaio-async p99.9 / max / IOPS', 'jdk-afc p99.9 / max / IOPS'))
for qd in (32, 256):
    for case in ('odirect', 'cached', 'uncached', 'randwrite', 'append'):
        path = os.path.join(here, 'never-%s-qd%d.jsonl' % (case, qd))
        if not os.path.exists(path):
            continue
        rows = {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}
        cells = []
        for engine in ('panaio-async', 'jdk-afc'):
            r = rows.get(engine)
            cells.append('%8.1f %9.0f %9.0f' % (r['submit_p999_us'], r['submit_max_us'], r['iops']) if r else '-')
        print('%-22s %28s %28s' % ('%s qd %d' % (case, qd), cells[0], cells[1]))
