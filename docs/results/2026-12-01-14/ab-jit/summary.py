#!/usr/bin/env python3
"""Prints each run of the JIT A/B: IOPS, CPU us/op and the JIT compilers' CPU in the window of each engine,
and panaio-vthreads / filechannel-vthreads, panaio / filechannel, panaio-async / filechannel."""
import glob, json, os, re

here = os.path.dirname(os.path.abspath(__file__))
def key(path):
    m = re.match(r'(\w+)-(\d+)\.jsonl', os.path.basename(path))
    return (int(m.group(2)), m.group(1) != 'settle')
for path in sorted(glob.glob(os.path.join(here, '*.jsonl')), key=key):
    rows = {d['engine']: d for d in map(json.loads, open(path))}
    name = os.path.basename(path)[:-6]
    print(name)
    for e, d in rows.items():
        print(f"  {e:22} {d['iops']:9.0f} IOPS {d['cpu_us_per_op']:6.2f} us/op  jit in window {d.get('jit_cpu_s', 0):6.3f} s"
              f"  settle {d.get('jit_settle_s', 0):4.1f} s")
    r = lambda a, b: rows[a]['iops'] / rows[b]['iops']
    c = lambda a, b: rows[a]['cpu_us_per_op'] / rows[b]['cpu_us_per_op']
    print(f"  vthreads/fc-vthreads {r('panaio-vthreads', 'filechannel-vthreads'):.2f} at {c('panaio-vthreads', 'filechannel-vthreads'):.2f} CPU/op;"
          f" panaio/filechannel {r('panaio', 'filechannel'):.2f} at {c('panaio', 'filechannel'):.2f};"
          f" async/filechannel {r('panaio-async', 'filechannel'):.2f}")
