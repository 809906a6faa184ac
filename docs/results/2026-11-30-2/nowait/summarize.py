"""Sums the dev.panaio.SubmitBatch events of each recording: the time engine threads spent inside io_submit.

Run: python3 summarize.py (needs the JDK's jfr tool: JFR=/path/to/bin/jfr, default Temurin 25's)."""
import json, os, re, subprocess, sys
jfr = os.environ.get('JFR', '/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr')
def secs(iso):
    m = re.fullmatch(r'PT(?:(\d+)M)?([\d.]+)S', iso)
    return (int(m.group(1) or 0) * 60 + float(m.group(2))) if m else 0.0
for name in ('with-round1', 'without-round1', 'with-round2', 'without-round2'):
    out = subprocess.run([jfr, 'print', '--json', '--events', 'dev.panaio.SubmitBatch', name + '.jfr'],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(out)['recording']['events']
    eng = sorted(secs(e['values']['duration']) for e in events
                 if e['values']['eventThread']['javaName'].startswith('panaio-engine'))
    total = sum(eng)
    def pct(p): return eng[min(len(eng) - 1, int(p * len(eng)))] * 1e6 if eng else 0
    print(f"{name}: {len(eng)} io_submit calls on engine threads, {total:.3f} s inside them; "
          f"p50 {pct(0.5):.1f} µs, p99 {pct(0.99):.1f} µs, p99.9 {pct(0.999):.1f} µs, max {eng[-1] * 1e6 if eng else 0:,.0f} µs")
