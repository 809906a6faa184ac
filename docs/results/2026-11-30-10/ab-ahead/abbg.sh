#!/bin/bash
# abbg.sh outdir rounds bench-args...: as abunc.sh, with a background O_DIRECT writer during each run
out=$1; rounds=$2; shift 2
mkdir -p $out
for r in $(seq 1 $rounds); do for v in ${VARIANTS:-pre new}; do
  tree=/work/main; [ $v = pre ] && tree=/work/wt-pre
  cd $tree
  (while :; do dd if=/dev/zero of=/work/main/target/bench/bg.dat bs=1M count=2000 oflag=direct status=none; done) &
  bg=$!
  scripts/bench "$@" --engine panaio-async,jdk-afc --json > $out/$v-$r.jsonl 2>$out/$v-$r.err
  kill $bg; pkill -x dd; wait $bg 2>/dev/null
  python3 -c "
import json
for l in open('$out/$v-$r.jsonl'):
    if l.startswith('{'):
        r=json.loads(l); print('$v-$r', r['engine'], round(r['iops']), 'cpu', r['cpu_us_per_op'], 'p99.9', r['submit_p999_us'], 'max', r['submit_max_us'], 'B/op', round(r['storage_read_bytes']/r['ops']))" | tee -a $out/summary.txt
done; done
rm -f /work/main/target/bench/bg.dat
