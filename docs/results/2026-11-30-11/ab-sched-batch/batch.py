import os, re, sys, time, glob
pat = re.compile(sys.argv[1])
done=set()
while True:
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            cmd=open(f'/proc/{pid}/cmdline','rb').read()
        except OSError: continue
        if b'dev.panaio.bench.Bench' not in cmd: continue
        for t in os.listdir(f'/proc/{pid}/task'):
            if t in done: continue
            try:
                c=open(f'/proc/{pid}/task/{t}/comm').read().strip()
            except OSError: continue
            if pat.search(c):
                try:
                    os.sched_setscheduler(int(t), os.SCHED_BATCH, os.sched_param(0)); done.add(t)
                except OSError: pass
    time.sleep(0.1)
