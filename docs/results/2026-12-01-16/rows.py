#!/usr/bin/env python3
"""The sixteenth run's rows, from this directory's files: each ratio within one command; the JIT compilers' CPU in
every in-process window (jit_cpu_s) beside the fifteenth run's for the same commands; the steal in each window."""
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
before = os.path.join(here, '..', '2026-12-01-15')

def load(name, where=here):
    path = os.path.join(where, name + '.jsonl')
    if not os.path.exists(path):
        return None
    return {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}

def ratio(rows, a, b, key='iops'):
    if rows and a in rows and b in rows and rows[a].get(key) and rows[b].get(key):
        return '%.2f' % (rows[a][key] / rows[b][key])
    return '-'

pairs = {
    'randread-qd1': [('panaio', 'filechannel'), ('panaio-vthreads', 'filechannel'),
                     ('panaio-vthreads', 'filechannel-vthreads'), ('panaio-async', 'filechannel'),
                     ('panaio', 'fio'), ('c-handoff', 'filechannel'), ('c-wake', 'filechannel'),
                     ('panaio-vthreads', 'c-wake')],
    'cached-qd1': [('panaio-async', 'filechannel'), ('panaio-vthreads', 'filechannel')],
    'nullread': [('panaio', 'c-loop'), ('ffm-loop', 'c-loop')],
    'randread-qd32': [('panaio', 'fio'), ('panaio-async', 'fio'), ('panaio', 'filechannel'),
                      ('panaio-vthreads', 'filechannel-vthreads'), ('panaio', 'fio-uring'), ('panaio', 'c-loop')],
}
for path in sorted(glob.glob(os.path.join(here, '*.jsonl'))):
    name = os.path.basename(path)[:-6]
    rows = load(name)
    kind = next((k for k in pairs if name.startswith(k)), None)
    if kind is None:
        continue
    print(name)
    for a, b in pairs[kind]:
        if a in rows and b in rows:
            print('  %-42s IOPS %s  CPU/op %s' % (a + ' ÷ ' + b, ratio(rows, a, b), ratio(rows, a, b, 'cpu_us_per_op')))
    for e, r in rows.items():
        print('    %-22s %9.0f IOPS %7.2f µs CPU/op  steal %s  jit_cpu_s %s  settle %s s  settled %s  quiet requests %s'
              % (e, r['iops'], r['cpu_us_per_op'], r.get('steal_ticks', '-'), r.get('jit_cpu_s', '-'),
                 r.get('jit_settle_s', '-'), r.get('jit_settled', '-'), r.get('jit_quiet_requests', '-')))

print()
print('the JIT compilers in the measured windows, s (jit_cpu_s): this run | the fifteenth run, same command')
for name15, name16 in [('randread-qd1', 'randread-qd1-run1'), ('randread-qd1', 'randread-qd1-run2'),
                       ('cached-qd1-run1', 'cached-qd1-run1'), ('cached-qd1-run2', 'cached-qd1-run2'),
                       ('nullread-qd1', 'nullread-qd1'), ('nullread-qd32', 'nullread-qd32'),
                       ('randread-qd32-run1', 'randread-qd32-run1')]:
    now, then = load(name16), load(name15, before)
    if not now or not then:
        continue
    cells = []
    for e in now:
        if 'jit_cpu_s' in now[e]:
            t = then.get(e, {}).get('jit_cpu_s')
            cells.append('%s %.4f | %s' % (e, now[e]['jit_cpu_s'], '-' if t is None else '%.4f' % t))
    print('  %-20s %s' % (name16, '; '.join(cells)))
