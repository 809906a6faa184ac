"""Per file: each engine's IOPS, CPU per read, the compilers' CPU in its window and its steal; and the ratio."""
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, '*.jsonl'))):
    rows = {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}
    a, b = rows['panaio-vthreads'], rows['filechannel-vthreads']
    cell = lambda r: '%6.0f IOPS, %5.1f us CPU/op, JIT %.3f s, steal %3d' % (
        r['iops'], r['cpu_us_per_op'], r['jit_cpu_s'], r['steal_ticks'])
    print('%-12s panaio-vthreads %s | filechannel-vthreads %s | ratio %.2f' % (
        os.path.basename(path)[:-6], cell(a), cell(b), a['iops'] / b['iops']))
