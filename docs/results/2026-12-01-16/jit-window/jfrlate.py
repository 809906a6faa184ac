#!/usr/bin/env python3
"""jfrlate.py NAME SECONDS: the compilations and deoptimizations from the first window's opening to SECONDS later,
from NAME.compilation.txt, NAME.deopt.txt and NAME.window (jfrwin2.sh); the compilation time summed."""
import re, sys
name, secs = sys.argv[1], float(sys.argv[2])
win = open(name + '.window').read().split('at about ')[1].split()[0]
def tosec(t):
    h, m, s = t.split(':'); return int(h) * 3600 + int(m) * 60 + float(s)
w0 = tosec(win)
def parse(f):
    evs, cur = [], {}
    for line in open(f):
        line = line.rstrip()
        if line.startswith('jdk.'):
            if cur: evs.append(cur)
            cur = {}
        m = re.match(r'\s+(\w+) = (.*)', line)
        if m and m.group(1) not in cur: cur[m.group(1)] = m.group(2)
    if cur: evs.append(cur)
    return evs
def t(e):
    m = re.search(r'(\d\d:\d\d:\d\d\.\d+)', e.get('startTime', '')); return tosec(m.group(1)) if m else None
def ms(d):
    m = re.match(r'([\d.]+) (ms|s|us)', d or '')
    if not m: return 0.0
    v = float(m.group(1)); return v * {'ms': 1, 's': 1000, 'us': 0.001}[m.group(2)]
comp = [e for e in parse(name + '.compilation.txt') if t(e) is not None and w0 <= t(e) <= w0 + secs]
total = sum(ms(e.get('duration')) for e in comp)
print('window opened at about %s; %d compilations in the next %.1f s, %.1f ms in all' % (win, len(comp), secs, total))
for e in sorted(comp, key=lambda e: -ms(e.get('duration')))[:25]:
    print('  +%.3f s %8.2f ms level %s osr %s %s' % (t(e) - w0, ms(e.get('duration')), e.get('compileLevel'),
          e.get('isOsr'), e.get('method', '')[:120]))
deo = [e for e in parse(name + '.deopt.txt') if t(e) is not None and w0 - 2 <= t(e) <= w0 + secs]
print('%d deoptimizations from 2 s before the window to its end' % len(deo))
for e in deo[:40]:
    print('  %+.3f s %s %s %s line %s %s' % (t(e) - w0, e.get('reason'), e.get('action'), e.get('method', '')[:100],
          e.get('lineNumber'), e.get('instruction')))
