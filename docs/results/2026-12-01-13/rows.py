#!/usr/bin/env python3
"""The rows the targets of issue 10 are measured by, from this run's files: each ratio within one run."""
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
runs = [load('randread-qd32-run%d' % i) for i in range(1, 9)]
runs = [r for r in runs if r]
for label, a, b, key in lines:
    print('  %-48s %s' % (label, '  '.join(ratio(r, a, b, key) for r in runs)))
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
