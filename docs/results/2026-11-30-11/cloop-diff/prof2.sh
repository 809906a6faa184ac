#!/bin/bash
out=$1
cd /work/main
export PANAIO_BENCH_JVM_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit"
scripts/bench --qd 32 --seconds 8 --engine panaio,c-loop --json > $out.jsonl 2>$out.err &
for eng in java nullread; do
  pid=""
  for i in $(seq 1 1200); do
    if [ $eng = java ]; then pid=$(pgrep -f "java.*dev.panaio.bench.Bench" | head -1); else pid=$(pgrep -x nullread | head -1); fi
    [ -n "$pid" ] && break; sleep 0.1
  done
  sleep 4
  perf record -F 2999 -g -p $pid -o $out.$eng.data -- sleep 3 2>/dev/null >/dev/null
done
wait
for eng in java nullread; do perf report -i $out.$eng.data --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep "%" | grep -v "^#" > $out.$eng.txt; done
