#!/usr/bin/env python3
"""The rows the targets of issue 10 are measured by, from this run's files: each ratio within one run; the steal
the hypervisor took over the in-process engines' windows of each run; the JIT compilers' CPU in the windows."""
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))

def load(name):
    path = os.path.join(here, name + '.jsonl')
    if not os.path.exists(path):
        return None
    return {r['engine']: r for r in (json.loads(l) for l in open(path) if l.startswith('{'))}

def ratio(rows, a, b, key='iops'):
    if a in rows and b in rows and rows[b][key]:
        return '%.2f' % (rows[a][key] / rows[b][key])
    return '-'

print('qd 32 (randread-qd32-runN)')
lines = [
    ('panaio ÷ fio, IOPS', 'panaio', 'fio', 'iops'),
    ('panaio ÷ fio, CPU/op', 'panaio', 'fio', 'cpu_us_per_op'),
    ('panaio ÷ c-loop, CPU/op', 'panaio', 'c-loop', 'cpu_us_per_op'),
    ('c-loop ÷ fio, CPU/op', 'c-loop', 'fio', 'cpu_us_per_op'),
    ('panaio-async ÷ fio, IOPS', 'panaio-async', 'fio', 'iops'),
    ('c-handoff ÷ fio, IOPS', 'c-handoff', 'fio', 'iops'),
    ('panaio ÷ filechannel, IOPS', 'panaio', 'filechannel', 'iops'),
    ('panaio ÷ filechannel, CPU/op', 'panaio', 'filechannel', 'cpu_us_per_op'),
    ('c-loop ÷ filechannel, CPU/op', 'c-loop', 'filechannel', 'cpu_us_per_op'),
    ('panaio-vthreads ÷ filechannel-vthreads, IOPS', 'panaio-vthreads', 'filechannel-vthreads', 'iops'),
    ('panaio-vthreads ÷ filechannel-vthreads, CPU/op', 'panaio-vthreads', 'filechannel-vthreads', 'cpu_us_per_op'),
    ('panaio ÷ fio-uring, IOPS', 'panaio', 'fio-uring', 'iops'),
    ('panaio ÷ fio-uring, CPU/op', 'panaio', 'fio-uring', 'cpu_us_per_op'),
]
runs = [load('randread-qd32-run%d' % i) for i in range(1, 13)]
runs = [r for r in runs if r]
for label, a, b, key in lines:
    print('  %-48s %s' % (label, '  '.join(ratio(r, a, b, key) for r in runs)))
print('  %-48s %s' % ('steal in the run (ticks of 1/100 s, both CPUs)',
      '  '.join('%d' % sum(d.get('steal_ticks') or 0 for d in r.values()) for r in runs)))
print('  %-48s %s' % ('panaio-vthreads thread runs per request',
      '  '.join('%.3f' % r['panaio-vthreads']['thread_runs_per_op'] for r in runs if 'panaio-vthreads' in r)))
for name, pairs in [
        ('randread-qd256', [('panaio', 'fio'), ('panaio-async', 'fio'), ('panaio-vthreads', 'filechannel-vthreads')]),
        ('randread-qd1', [('panaio', 'filechannel'), ('panaio-vthreads', 'filechannel'), ('panaio-async', 'filechannel'),
                          ('c-handoff', 'c-loop'), ('c-loop', 'filechannel'), ('c-handoff', 'filechannel')]),
        ('cached-qd1-run1', [('panaio-async', 'filechannel'), ('panaio-vthreads', 'filechannel')]),
        ('cached-qd1-run2', [('panaio-async', 'filechannel'), ('panaio-vthreads', 'filechannel')])]:
    rows = load(name)
    if rows:
        print(name + ': ' + ', '.join('%s ÷ %s %s (CPU/op %s)' % (a, b, ratio(rows, a, b), ratio(rows, a, b, 'cpu_us_per_op'))
                                      for a, b in pairs))
for name in ['nullread-qd1', 'nullread-qd32']:
    rows = load(name)
    if rows:
        print(name + ': CPU/op panaio ÷ c-loop %s, ffm-loop ÷ c-loop %s' % (
            ratio(rows, 'panaio', 'c-loop', 'cpu_us_per_op'), ratio(rows, 'ffm-loop', 'c-loop', 'cpu_us_per_op')))
print('the JIT compilers in the measured windows (jit_cpu_s), and how much longer the warm-ups ran (jit_settle_s):')
for path in sorted(glob.glob(os.path.join(here, '*.jsonl'))):
    rows = [json.loads(l) for l in open(path) if l.startswith('{')]
    jit = [r for r in rows if 'jit_cpu_s' in r]
    if jit:
        worst = max(jit, key=lambda r: r['jit_cpu_s'] / r['seconds'])
        unsettled = [r['engine'] for r in jit if not r.get('jit_settled', True)]
        print('  %-20s most in a window: %.3f s of %.1f s (%s, qd %d); warm-ups %.1f to %.1f s longer%s' % (
            os.path.basename(path)[:-6], worst['jit_cpu_s'], worst['seconds'], worst['engine'], worst['qd'],
            min(r.get('jit_settle_s', 0) for r in jit), max(r.get('jit_settle_s', 0) for r in jit),
            '; not settled: ' + ', '.join(unsettled) if unsettled else ''))
