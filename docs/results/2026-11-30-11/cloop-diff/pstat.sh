#!/bin/bash
# pstat.sh out : syscall and switch counts of the panaio loop and the C loop, qd 32, 4 s each inside the window
out=$1
cd /work/main
EV='syscalls:sys_enter_io_submit,syscalls:sys_enter_io_getevents,syscalls:sys_enter_io_pgetevents,syscalls:sys_enter_clock_gettime,raw_syscalls:sys_enter,context-switches,cpu-migrations,page-faults,task-clock'
scripts/bench --qd 32 --seconds 8 --engine panaio,c-loop --json > $out.jsonl 2>$out.err &
for eng in java nullread; do
  pid=""
  for i in $(seq 1 1200); do
    if [ $eng = java ]; then pid=$(pgrep -f "java.*dev.panaio.bench.Bench" | head -1); else pid=$(pgrep -x nullread | head -1); fi
    [ -n "$pid" ] && break; sleep 0.1
  done
  sleep 4
  perf stat -e $EV -p $pid -- sleep 4 2> $out.$eng.perfstat
  [ $eng = java ] && while pgrep -x nullread >/dev/null; do sleep 0.1; done  # not yet
done
wait
