#!/bin/bash
# abunc.sh outdir rounds bench-args...   (pre = /work/wt-pre, new = /work/main), panaio-async
out=$1; rounds=$2; shift 2
mkdir -p $out
for r in $(seq 1 $rounds); do for v in pre new; do
  tree=/work/main; [ $v = pre ] && tree=/work/wt-pre
  cd $tree
  scripts/bench "$@" --engine panaio-async --json > $out/$v-$r.jsonl 2>$out/$v-$r.err &
  sleep 8
  n=0; for pid in $(pgrep -f "dev.panaio.bench.Bench"); do n=$(for t in /proc/$pid/task/*; do cat $t/comm; done 2>/dev/null | sort | uniq -c | tr '\n' ' '); done
  wait
  python3 -c "
import json; r=[json.loads(l) for l in open('$out/$v-$r.jsonl') if l.startswith('{')][0]; print('$v-$r', round(r['iops']), 'cpu', r['cpu_us_per_op'], 'p99.9', r['submit_p999_us'], 'max', r['submit_max_us'], 'runs/op', r.get('thread_runs_per_op'), 'gc', r.get('gc_pauses'))" | tee -a $out/summary.txt
  echo "   threads: $n" >> $out/summary.txt
done; done
