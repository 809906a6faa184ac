#!/bin/bash
# rows16.sh NAME ARGS... : one scripts/bench command, its JSON and stderr kept, a COMMANDS.txt line with time, load and steal
out=/work/main/docs/results/2026-12-01-16
cd /work/main
name=$1; shift
ld=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $name: ($(date -u +%H:%M:%SZ), load $ld) scripts/bench $*" >> $out/COMMANDS.txt
a=$(awk '/^cpu /{print $9}' /proc/stat)
scripts/bench "$@" > $out/$name.jsonl 2> $out/$name.stderr.txt
rc=$?
b=$(awk '/^cpu /{print $9}' /proc/stat)
echo "   $name: exit $rc, steal over the whole command $((b-a)) ticks" >> $out/COMMANDS.txt
