#!/bin/bash
R=/tmp/s16/rows16.sh
Q1="panaio,panaio-async,panaio-vthreads,filechannel,filechannel-vthreads,jdk-afc,fio,c-loop,c-handoff"
for i in 1 2; do
  $R randread-qd1-run$i randread --qd 1 --seconds 5 --engine $Q1 --json
  $R cached-qd1-run$i --buffered --size 64m --file target/bench/cached64m.dat --qd 1 --engine panaio-async,panaio-vthreads,filechannel,jdk-afc --json
done
$R nullread-qd1 nullread --qd 1 --engine panaio,ffm-loop,c-loop --json
$R nullread-qd32 nullread --qd 32 --engine panaio,ffm-loop,c-loop --json
$R randread-qd32-run1 randread --seconds 5 --json
echo ALLDONE
