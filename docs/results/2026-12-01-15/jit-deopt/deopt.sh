#!/bin/bash
# usage: deopt.sh NAME ENGINE QD -- a JFR recording of one run; prints when the window opened and the deoptimizations
name=$1; eng=$2; qd=$3; shift 3
out=${OUT:-.}
cd ${WT:-/work/main}
PANAIO_BENCH_JVM_OPTS="-XX:StartFlightRecording=filename=$out/$name.jfr,settings=profile" \
  scripts/bench randread --qd $qd --seconds 5 --engine $eng --json "$@" > $out/$name.jsonl 2> $out/$name.stderr &
b=$!
while ! grep -q "$eng: measuring" $out/$name.stderr 2>/dev/null; do sleep 0.05; done
echo "window opened at about $(date -u +%H:%M:%S.%N | cut -c1-12)" > $out/$name.window
grep -q "warming up" $out/$name.stderr
wait $b
/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr print --events jdk.Deoptimization $out/$name.jfr > $out/$name.deopt.txt
echo done
