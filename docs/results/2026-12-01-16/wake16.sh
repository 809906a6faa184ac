#!/bin/bash
R=/tmp/s16/rows16.sh
for i in 1 2 3; do
  $R qd1-wake-run$i randread --qd 1 --seconds 5 --engine panaio-vthreads,filechannel,filechannel-vthreads,c-loop,c-wake,c-handoff --json
done
echo ALLDONE
