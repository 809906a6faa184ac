#!/usr/bin/env python3
"""One line per run of the A/B: panaio-vthreads' IOPS, CPU per request and thread runs per request, and its IOPS
and CPU per request over the JDK peer's in the same run (filechannel-vthreads; filechannel at qd 1)."""
import glob
import json
import os
import re

here = os.path.dirname(os.path.abspath(__file__))
def key(path):
    m = re.match(r'qd(\d+)-(base|relay)-(\d+)', os.path.basename(path))
    return (int(m.group(1)), int(m.group(3)), m.group(2))
print('%-14s %9s %7s %9s %8s %9s' % ('run', 'IOPS', 'CPU/op', 'runs/op', '÷ peer', 'CPU ÷ peer'))
for path in sorted(glob.glob(os.path.join(here, 'qd*.jsonl')), key=key):
    rows = {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}
    vt = rows.get('panaio-vthreads')
    peer = rows.get('filechannel-vthreads') or rows.get('filechannel')
    if not vt or not peer:
        print('%-14s incomplete' % os.path.basename(path)[:-6])
        continue
    print('%-14s %9.0f %7.2f %9.3f %8.2f %9.2f' % (os.path.basename(path)[:-6], vt['iops'], vt['cpu_us_per_op'],
          vt['thread_runs_per_op'], vt['iops'] / peer['iops'], vt['cpu_us_per_op'] / peer['cpu_us_per_op']))
