#!/bin/bash
# usage: profall.sh NAME ENGINE QD -- perf record -g of the whole JVM for 2 s inside the measured window
name=$1; eng=$2; qd=$3; shift 3
out=${OUT:-.}
cd ${WT:-/work/main}
PANAIO_BENCH_JVM_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer" \
  scripts/bench randread --qd $qd --seconds 6 --engine $eng --json "$@" > $out/$name.jsonl 2> $out/$name.stderr &
b=$!
while ! grep -q measuring $out/$name.stderr 2>/dev/null; do sleep 0.2; done
sleep 1
pid=$(pgrep -n -x java)
perf record -g -p $pid -o $out/$name.perf -- sleep 2 >/dev/null 2>&1
wait $b
perf report -i $out/$name.perf --no-children --stdio --percent-limit 0.8 -g none --sort comm,dso,sym 2>/dev/null | grep -v '^$' | grep -v '^#' | head -70 > $out/$name.report
perf report -i $out/$name.perf --no-children --stdio -g none --sort comm 2>/dev/null | grep -v '^$' | grep -v '^#' | head -20 > $out/$name.comm
echo done
