#!/bin/bash
# usage: jfrwin2.sh NAME ENGINES BENCH-ARGS... -- a JFR recording (every compilation) of one scripts/bench command;
# the wall-clock time each engine's window opened; the compilations and deoptimizations printed by jfr
name=$1; eng=$2; shift 2
out=${OUT:-/tmp/s16}
cd ${WT:-/work/main}
PANAIO_BENCH_JVM_OPTS="-XX:StartFlightRecording=filename=$out/$name.jfr,settings=/tmp/s16/comp.jfc" \
  scripts/bench "$@" --engine $eng --json > $out/$name.jsonl 2> $out/$name.stderr &
b=$!
: > $out/$name.window
for e in ${eng//,/ }; do
  while ! grep -q "  $e: measuring" $out/$name.stderr 2>/dev/null; do sleep 0.02; kill -0 $b 2>/dev/null || break; done
  echo "$e window opened at about $(date -u +%H:%M:%S.%N | cut -c1-12)" >> $out/$name.window
done
wait $b
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr
$J print --events jdk.Deoptimization $out/$name.jfr > $out/$name.deopt.txt
$J print --events jdk.Compilation $out/$name.jfr > $out/$name.compilation.txt
echo done
