#!/bin/bash
R=/tmp/s16/rows16.sh
for i in 2 3 4; do
  $R randread-qd32-run$i randread --seconds 5 --json
done
echo ALLDONE
