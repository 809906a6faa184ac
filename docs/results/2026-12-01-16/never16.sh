#!/bin/bash
R=/tmp/s16/rows16.sh
for qd in 32 256; do
  $R never-odirect-qd$qd randread --qd $qd --seconds 5 --engine panaio-async,jdk-afc --json
  $R never-cached-qd$qd --buffered --size 64m --file target/bench/cached64m.dat --qd $qd --seconds 5 --engine panaio-async,jdk-afc --json
  $R never-uncached-qd$qd --uncached --qd $qd --seconds 5 --engine panaio-async,jdk-afc --json
  $R never-randwrite-qd$qd randwrite --buffered --qd $qd --seconds 5 --engine panaio-async,jdk-afc --json
  $R never-append-qd$qd append --buffered --qd $qd --seconds 5 --engine panaio-async,jdk-afc --json
done
echo ALLDONE
