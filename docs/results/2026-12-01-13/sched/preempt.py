#!/usr/bin/env python3
"""Reads `perf sched timehist --state` output and says, for the engine thread (panaio-engine-*):
how often it left a CPU preempted (state R) or asleep (S), which task ran next on that CPU after
each preemption, and how long each task (and <idle>) ran over the record."""
import collections
import sys

rows = [l.split() for l in open(sys.argv[1]) if l[:1] == ' ' and '[' in l]
states = collections.Counter()
next_after_preempt = collections.Counter()
run_ms = collections.Counter()
previous_on_cpu = {}
for r in rows:
    if len(r) < 7:
        continue  # wake-up lines ("awakened: ...") carry no run time
    cpu, name, state = r[1], r[2].split('[')[0], r[6]
    try:
        run_ms[name] += float(r[5])
    except ValueError:
        continue
    before = previous_on_cpu.get(cpu)
    if before and before[0].startswith('panaio-engine') and before[1] == 'R':
        next_after_preempt[name] += 1
    if name.startswith('panaio-engine'):
        states[state] += 1
    previous_on_cpu[cpu] = (name, state)
print('engine thread left its CPU: preempted (R) %d times, asleep (S) %d times' % (states['R'], states['S']))
print('next on that CPU after a preemption:', ', '.join('%s %d' % kv for kv in next_after_preempt.most_common(4)))
print('run time over the record, ms:', ', '.join('%s %.1f' % (k, v) for k, v in run_ms.most_common(5)))
