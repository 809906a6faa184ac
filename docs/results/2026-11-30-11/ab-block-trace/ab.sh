#!/bin/bash
# ab.sh outdir rounds bench-args... : "traced" with two tracefs instances tracing block_rq_issue filtered to loop devices, as found; "clean" without
out=$1; rounds=$2; shift 2
mkdir -p $out
T=/sys/kernel/tracing/instances
mk() { for n in 0 1; do d=$T/abtrace-$n; mkdir $d; echo "dev == $((7340032+n))" > $d/events/block/block_rq_issue/filter; echo 1 > $d/events/block/block_rq_issue/enable; done; }
rm_() { for n in 0 1; do d=$T/abtrace-$n; [ -d $d ] && { echo 0 > $d/events/block/block_rq_issue/enable; rmdir $d; }; done; }
cd /work/main
for r in $(seq 1 $rounds); do for v in traced clean; do
  [ $v = traced ] && mk
  scripts/bench "$@" --json > $out/$v-$r.jsonl 2>$out/$v-$r.err
  rm_
  python3 -c "
import json
for l in open('$out/$v-$r.jsonl'):
  if not l.startswith('{'): continue
  r=json.loads(l); print('$v-$r', r['engine'], round(r['iops']), 'cpu/op', r['cpu_us_per_op'])" | tee -a $out/summary.txt
done; done
