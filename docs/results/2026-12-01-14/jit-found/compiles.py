#!/usr/bin/env python3
"""Summarises -XX:+PrintCompilation output (argument: the file): compilations begun in each second of the JVM's
life, those at tier 4 (C2), and those marked 'made not entrant' (a tier's code replaced by the next tier's, or
discarded), with the methods made not entrant most often."""
import collections, re, sys
begun = collections.Counter(); c2 = collections.Counter(); gone = collections.Counter(); methods = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r'\s*(\d+)\s+\d+\s+(\S*)\s+(\d)\s+(\S+)', line)
    if not m:
        continue
    second = int(m.group(1)) // 1000
    begun[second] += 1
    if m.group(3) == '4':
        c2[second] += 1
    if 'made not entrant' in line:
        gone[second] += 1
        methods[m.group(4)] += 1
for second in sorted(begun):
    print('%3d s: %5d lines, %4d at tier 4, %4d made not entrant' % (second, begun[second], c2[second], gone[second]))
print('made not entrant most often:', ', '.join('%s %d' % kv for kv in methods.most_common(8)))
