import os, sys, time
# threadcpu.py PID T0 T1 : per-thread CPU (utime+stime ticks -> ms) between T0 and T1 seconds from now
pid=sys.argv[1]; t0=float(sys.argv[2]); t1=float(sys.argv[3])
hz=os.sysconf('SC_CLK_TCK')
def snap():
    d={}
    for t in os.listdir(f'/proc/{pid}/task'):
        try:
            s=open(f'/proc/{pid}/task/{t}/stat').read()
            comm=s[s.index('(')+1:s.rindex(')')]
            f=s[s.rindex(')')+2:].split()
            d[t]=(comm,int(f[11])+int(f[12]))
        except OSError: pass
    return d
time.sleep(t0); a=snap(); ta=time.time()
time.sleep(t1-t0); b=snap(); tb=time.time()
rows={}
for t,(c,v) in b.items():
    v0=a.get(t,(c,0))[1]
    k=c
    rows[k]=rows.get(k,0)+(v-v0)*1000/hz
tot=sum(rows.values())
print('window %.2f s, total %.0f ms CPU'%(tb-ta,tot))
for k,v in sorted(rows.items(), key=lambda x:-x[1]):
    if v>0: print('  %-20s %7.0f ms  %5.1f%%'%(k,v,100*v/tot))
