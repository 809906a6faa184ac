#!/bin/bash
# abc.sh outdir rounds qdlist: cached reads, panaio-async, pre (/work/wt-pre) vs new (/work/main), alternated
out=$1; rounds=$2; qds=$3
mkdir -p $out
for r in $(seq 1 $rounds); do for qd in $qds; do for v in pre new; do
  tree=/work/main; [ $v = pre ] && tree=/work/wt-pre
  cd $tree
  scripts/bench --buffered --size 64m --file target/bench/cached64m.dat --qd $qd --seconds 5 --engine panaio-async --json > $out/qd$qd-$v-$r.jsonl 2>$out/qd$qd-$v-$r.err
  python3 -c "
import json; r=[json.loads(l) for l in open('$out/qd$qd-$v-$r.jsonl') if l.startswith('{')][0]; print('qd$qd-$v-$r', round(r['iops']), 'cpu', r['cpu_us_per_op'], 'p99.9', r['submit_p999_us'], 'max', r['submit_max_us'], 'gc', r.get('gc_pauses'))" | tee -a $out/summary.txt
done; done; done
