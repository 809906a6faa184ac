#!/usr/bin/env bash
# Checks scripts/bench's contract with its users, in a few minutes:
# exit 2 and a usage for bad command lines, exit 1 and a one-line reason for
# files it cannot use, nothing but JSON lines on stdout under --json, and, from
# runs of a fraction of a second on tiny files: a verdict line and a chart, a
# --file made when missing, a warning when O_DIRECT measures memory, and the
# page cache and stall figures of --uncached, append and wal, the page-cache
# watch's own CPU when its samples are costly, and the
# split of the stall under --stall-trace, and a warm-up that waits for the JIT.
# Usage: bench/cli-test.sh    (prints 'N passed, N failed'; exit 1 if any failed)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/scripts/bench"
passed=0
failed=0
# On a disk filesystem, under the build directory: /tmp may be tmpfs, whose O_DIRECT is fake.
mkdir -p "$root/target"
tmp=$(mktemp -d "$root/target/cli-test.XXXXXX")
shm=""
trap 'rm -rf "$tmp" ${shm:+"$shm"}' EXIT

# expect NAME STATUS STDERR_PATTERN -- ARGS...: runs scripts/bench ARGS, checks its exit status and stderr.
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  "$bench" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -eq $status ]] && grep -Eq -- "$pattern" "$tmp/err" && ! grep -q "^[[:space:]]*at " "$tmp/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $rc (wanted $status), stderr:" >&2
    sed 's/^/    /' "$tmp/err" | tail -5 >&2
  fi
}

# check NAME COMMAND...: passes if COMMAND succeeds; else prints NAME and the last run's output.
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name; stdout, then stderr:" >&2
    sed 's/^/    /' "$tmp/out" | tail -8 >&2
    sed 's/^/    /' "$tmp/err" | tail -5 >&2
  fi
}

# The first call builds everything; later ones reuse the build.
"$bench" --help >/dev/null 2>"$tmp/build.err" || { cat "$tmp/build.err" >&2; echo "0 passed, 1 failed"; exit 1; }

expect "unknown option" 2 "unknown option --bogus" -- --bogus
expect "unknown workload" 2 "unexpected argument 'randreed'" -- randreed
expect "unknown engine" 2 "unknown engine 'nope'" -- --engine nope
expect "bad number" 2 "--qd must be between 1 and 4096" -- --qd 0
expect "bad size" 2 "--bs takes a size" -- --bs 4q
expect "missing value" 2 "--seconds needs a value" -- --seconds
expect "usage printed" 2 "^usage: scripts/bench" -- --bogus
expect "nullread is buffered" 2 "has no O_DIRECT" -- nullread --direct
expect "uncached is buffered" 2 "--uncached is for buffered reads" -- --uncached --direct
expect "uncached reads only" 2 "--uncached evicts .* not randwrite" -- randwrite --uncached
expect "fallocated is for wal" 2 "--fallocated is for wal, not randread" -- --fallocated
expect "bad rounds" 2 "--rounds must be between 1 and 50, not 51" -- --rounds 51
expect "rounds not in a sweep" 2 "--rounds is for one queue depth, not a sweep" -- sweep --rounds 2
expect "engine without the workload" 2 "engine 'c-loop' does not run wal" -- wal --engine c-loop
expect "missing directory" 1 "^scripts/bench: no such directory: $tmp/none \(for --file $tmp/none/x\.dat\)$" \
  -- --file "$tmp/none/x.dat"
"$bench" --help >"$tmp/out" 2>"$tmp/err"
check "--help lists fio-uring" grep -q "fio-uring" "$tmp/out"
check "--help lists append" grep -q "append:" "$tmp/out"
check "--help lists wal" grep -q "wal:" "$tmp/out"
check "--help lists --uncached" grep -q -- "--uncached" "$tmp/out"
head -c 4096 /dev/urandom >"$tmp/small.dat"
expect "file too small" 1 "holds 4096 bytes, less than one --bs block of 8192" -- --file "$tmp/small.dat" --bs 8k
head -c 65536 /dev/urandom >"$tmp/data.dat"
expect "misaligned bs" 1 "--bs 1000 is not a multiple of [0-9]+, the O_DIRECT alignment of" -- --file "$tmp/data.dat" --bs 1000
if [[ -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  expect "no O_DIRECT" 1 "without O_DIRECT: use --buffered" -- --file /sys/kernel/mm/transparent_hugepage/enabled
fi

# A short run on a --file that does not exist yet: it is made at --size; stdout has the table with
# its "better:" row, the chart's path (a PNG written by this run) and, last, the verdict.
touch "$tmp/before"
"$bench" --file "$tmp/made.dat" --size 64k --engine panaio,filechannel --qd 2 --seconds 0.5 --warmup 0.3 \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
check "run exits 0" test "$rc" -eq 0
check "--file made at --size" test "$(stat -c %s "$tmp/made.dat" 2>/dev/null)" = 65536
check "table says which way is better" grep -q "^better: .*higher .*lower" "$tmp/out"
verdict="^verdict: panaio did [0-9.]+x the IOPS of the best peer, filechannel \(higher is better\), at [0-9.]+x"
verdict+=" its CPU time per request \(lower is better\)$"
check "verdict is the last line" grep -Eq "$verdict" <(tail -1 "$tmp/out")
chart=$(sed -n 's/^chart: \(.*\.png\) (.*/\1/p' "$tmp/out")
check "chart written" test -n "$chart" -a "$chart" -nt "$tmp/before"
check "chart is a PNG" grep -q "PNG" <(head -c 4 "$chart" 2>/dev/null)

# tmpfs takes O_DIRECT (Linux 6.6 on) and ignores it: the output must say the figures measure memory.
# Older kernels refuse O_DIRECT there, which the harness reports as an unusable file.
tmpfs_warned() {
  if ((rc == 0)); then
    grep -q "^warning: .* is on tmpfs, .* measure memory, not a device" "$tmp/out"
  else
    ((rc == 1)) && grep -q "without O_DIRECT" "$tmp/err"
  fi
}
if [[ -d /dev/shm && -w /dev/shm && "$(stat -f -c %T /dev/shm)" == tmpfs ]]; then
  shm=$(mktemp -d /dev/shm/panaio-cli-test.XXXXXX)
  "$bench" --file "$shm/data.dat" --size 64k --engine panaio --qd 1 --seconds 0.1 --warmup 0 \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  check "tmpfs warning" tmpfs_warned
fi

# --json: one JSON object per engine on stdout, with the documented keys, and nothing else;
# the verdict goes to stderr.
if "$bench" nullread --engine panaio --qd 2 --seconds 0.3 --warmup 0.2 --json >"$tmp/out" 2>"$tmp/err" \
    && grep -q "^verdict: " "$tmp/err" && python3 - "$tmp/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
row = json.loads(lines[0])
keys = {"engine", "workload", "bs", "qd", "direct", "seconds", "ops", "iops", "mib_s", "p50_us", "p99_us",
        "p999_us", "cpu_s", "cpu_us_per_op"}
assert keys <= row.keys(), keys - row.keys()
assert row["engine"] == "panaio" and row["workload"] == "nullread" and row["ops"] > 0, row
EOF
then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL --json output:" >&2
  sed 's/^/    /' "$tmp/out" "$tmp/err" | tail -5 >&2
fi

# json_check NAME CODE ARGS...: runs scripts/bench ARGS --json; CODE (Python) checks `rows`, one dict per engine.
json_check() {
  local name=$1 code=$2
  shift 2
  if "$bench" "$@" --json >"$tmp/out" 2>"$tmp/err" && python3 - "$tmp/out" "$code" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]).read().splitlines()]
assert rows and all("error" not in r for r in rows), rows
exec(sys.argv[2])
EOF
  then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name:" >&2
    sed 's/^/    /' "$tmp/out" "$tmp/err" | tail -6 >&2
  fi
}

# The caller's stall where misses stay misses: page cache figures and stalls in the JSON.
json_check "--uncached: hit ratio and stalls" '
for r in rows:
    assert r["uncached"] and r["evictions"] > 0 and r["page_cache_source"] in ("cachestat", "mincore"), r
    assert 0 <= r["hit_ratio"] <= 1 and r["submit_max_us"] > 0 and r["ops"] > 0, r
    assert r["run_queue_wait_s"] >= 0 and r["thread_runs_per_op"] > 0, r
    assert 0 <= r["gc_pause_max_ms"] <= r["gc_pause_ms"] and r["gc_pauses"] >= 0, r
' randread --uncached --file "$tmp/made.dat" --engine panaio-async,jdk-afc --qd 2 --seconds 0.5 --warmup 0.3

# The same with mincore, cachestat's fallback on kernels before 6.5.
PANAIO_BENCH_JVM_OPTS=-Dpanaio.bench.pageCacheSource=mincore json_check "--uncached through mincore" '
assert all(r["page_cache_source"] == "mincore" and r["evictions"] > 0 and r["ops"] > 0 for r in rows), rows
' randread --uncached --file "$tmp/made.dat" --engine panaio-async --qd 2 --seconds 0.5 --warmup 0.3

# nullread's loops side by side: each completes requests and times its io_submit calls (the C loop too).
null_engines=panaio,ffm-loop
command -v gcc >/dev/null && null_engines+=,c-loop,c-handoff,c-wake
json_check "nullread: panaio, ffm-loop and the C loops" '
assert ",".join(r["engine"] for r in rows) == "'"$null_engines"'", rows
assert all(r["ops"] > 0 and r["submit_max_us"] > 0 for r in rows), rows
' nullread --engine "$null_engines" --qd 2 --seconds 0.5 --warmup 0.3

# --rounds: the engines interleaved, the order rotated each round, every row saying its round; then one summary row
# per engine, whose figures are the medians of its rounds and whose ratios are the medians of those taken within
# each round against panaio's figure of the same round.
json_check "--rounds: interleaved, ratios within rounds" '
import statistics
per = [r for r in rows if "summary" not in r]
summary = {r["engine"]: r for r in rows if r.get("summary")}
assert [r["round"] for r in per] == [1, 1, 2, 2, 3, 3] and all(r["rounds"] == 3 for r in per), per
assert [r["engine"] for r in per] == ["panaio", "ffm-loop", "ffm-loop", "panaio", "panaio", "ffm-loop"], per
assert list(summary) == ["panaio", "ffm-loop"], rows
for engine, s in summary.items():
    own = [r for r in per if r["engine"] == engine]
    assert s["rounds"] == 3 and s["rounds_completed"] == 3, s
    assert abs(s["iops"] - statistics.median(r["iops"] for r in own)) < 0.2, (s, own)
    ratios = []
    for n in (1, 2, 3):
        base = next(r for r in per if r["round"] == n and r["engine"] == "panaio")
        mine = next(r for r in per if r["round"] == n and r["engine"] == engine)
        ratios.append(mine["iops"] / base["iops"])
    assert abs(s["iops_x_panaio"] - statistics.median(ratios)) < 0.002, (s, ratios)
    assert abs(s["iops_x_panaio_min"] - min(ratios)) < 0.002 and abs(s["iops_x_panaio_max"] - max(ratios)) < 0.002, s
' nullread --engine panaio,ffm-loop --qd 2 --seconds 0.3 --warmup 0.2 --rounds 3

# The page-cache watch spaces its samples by their cost: a cachestat sample walks the file's pages, up to about
# 14 ms beside a write run here, and taken every 10 ms it took 0.4 to 0.6 of a CPU. Samples made to cost 5 ms each.
# The watch runs through the warm-up too, which lasts as long as the JIT takes to settle.
PANAIO_BENCH_JVM_OPTS=-Dpanaio.bench.sampleExtraCpuMillis=5 json_check "page-cache watch: a few % of a CPU" '
for r in rows:
    assert r["watch_samples"] > 0, r
    assert r["watch_cpu_s"] < 0.08 * (r["seconds"] + 0.5 + r.get("jit_settle_s", 0)), r
' randwrite --buffered --file "$tmp/data.dat" --engine panaio-async --qd 2 --seconds 1 --warmup 0.5

# ... and what CPU it does use is the harness's, not the engine's: made to sample every period at 9 ms of CPU a
# sample, it keeps most of a CPU busy beside one thread reading a cached file, whose CPU (one thread, at most one
# CPU) must not take the watch's in. Needs two CPUs: on one, the two threads would share it.
PANAIO_BENCH_JVM_OPTS="-Dpanaio.bench.sampleExtraCpuMillis=9 -Dpanaio.bench.sampleCostFactor=0" json_check \
    "page-cache watch: its CPU not counted as the engine's" '
import os
r = rows[0]
assert r["engine"] == "filechannel" and r["watch_samples"] > 0, r
if len(os.sched_getaffinity(0)) >= 2:
    assert r["watch_cpu_s"] > 0.5 * r["seconds"], r
    assert r["cpu_s"] < 1.3 * r["seconds"], r
' randread --buffered --file "$tmp/data.dat" --engine filechannel --qd 1 --seconds 1 --warmup 0.3

# A warm-up ends only once the JIT compilers have settled. panaio-vthreads, the first engine of its JVM, has them
# still compiling 0.2 s into its warm-up here, for seconds more: the warm-up goes on, says when they settled, and the
# row tells how much longer it ran. Settled means quiet over 100,000 requests, or for 8 s if fewer came. With the
# wait capped at 0, the window opens on time, and the row says they had not settled.
json_check "warm-up: until the JIT settles" '
r = rows[0]
import os, sys
assert r["jit_settle_s"] > 0 and r["jit_settled"] and "jit_cpu_s" in r, r
assert r["jit_quiet_requests"] >= 100000 or r["jit_settle_s"] >= 7.5, r
err = open(os.path.join(os.path.dirname(sys.argv[1]), "err")).read()
assert "the JIT settled after" in err, err
' randread --file "$tmp/made.dat" --engine panaio-vthreads --qd 8 --seconds 0.5 --warmup 0.2
PANAIO_BENCH_JVM_OPTS=-Dpanaio.bench.jitSettleSeconds=0 json_check "warm-up: the JIT's wait capped at 0" '
r = rows[0]
assert r["jit_settle_s"] == 0 and not r["jit_settled"] and r["jit_cpu_s"] > 0, r
' randread --file "$tmp/made.dat" --engine panaio-vthreads --qd 8 --seconds 0.5 --warmup 0.2
# A JVM with no compiler thread to watch (interpreter only): the warm-up ends when asked and says why.
PANAIO_BENCH_JVM_OPTS=-Xint json_check "warm-up: no JIT compiler to wait for" '
import os, sys
r = rows[0]
assert "jit_settle_s" not in r and "jit_settled" not in r and r["ops"] > 0, r
err = open(os.path.join(os.path.dirname(sys.argv[1]), "err")).read()
assert "no JIT compiler thread found" in err, err
' randread --file "$tmp/made.dat" --engine filechannel --qd 1 --seconds 0.3 --warmup 0.2

# Buffered appends: each engine's stall, and the file cut back to its size afterwards.
json_check "append: stalls, file restored" '
import os
assert [r["engine"] for r in rows] == ["panaio-async", "filechannel", "jdk-afc"], rows
for r in rows:
    assert r["workload"] == "append" and r["ops"] > 0 and r["submit_max_us"] > 0, r
assert os.path.getsize(rows[0]["file"]) == 65536, os.path.getsize(rows[0]["file"])
' append --buffered --file "$tmp/data.dat" --engine panaio-async,filechannel,jdk-afc --qd 2 --seconds 0.5 --warmup 0.3

# --stall-trace: every measured call of the asynchronous channels traced, the slow ones a part of all.
json_check "--stall-trace: calls split" '
for r in rows:
    t = r["stall_trace"]
    a, s, v = t["all_calls"], t["over_20us"], t["over_1ms"]
    assert a["calls"] > 0 and t["untraced_calls"] == 0 and t["probe_ns_mean"] > 0, r
    assert a["calls"] >= s["calls"] >= v["calls"] >= len(t["over_1ms_kept"]), r
    assert all(isinstance(c["gc_pause"], bool) for c in t["over_1ms_kept"]), r
    assert a["on_cpu_ms"] > 0 and a["run_queue_ms"] >= 0 and s["wall_ms"] <= a["wall_ms"], r
' append --buffered --file "$tmp/data.dat" --engine panaio-async,jdk-afc --qd 2 --seconds 0.5 --warmup 0.3 \
  --stall-trace

# wal: durable records from the low level, group commit at both levels, and the DSYNC channel.
wal_engines=panaio,panaio-group,panaio-async,filechannel-group
command -v fio >/dev/null && wal_engines+=,fio-dsync
json_check "wal: durable records" '
for r in rows:
    assert r["workload"] == "wal" and r["ops"] > 0 and r["durable_records_per_s"] > 0, r
' wal --file "$tmp/wal.dat" --size 1m --engine "$wal_engines" --qd 2 --seconds 0.5 --warmup 0.3

# wal --fallocated: a fresh fallocated log beside the data file for each engine, deleted at the end.
json_check "wal --fallocated" '
import os
assert all(r["file"].endswith("wal.dat.fallocated") and r["ops"] > 0 for r in rows), rows
assert not os.path.exists(rows[0]["file"]), rows[0]["file"]
' wal --fallocated --file "$tmp/wal.dat" --engine panaio,filechannel --qd 2 --seconds 0.5 --warmup 0.3

# The C measurements that run before any build: a bad count is refused; a short run prints its four set-ups.
expect "wakeup: bad rounds" 2 "^usage: wakeup" -- wakeup 0
wakeup_rows() {
  "$bench" wakeup 1 200 >"$tmp/out" 2>"$tmp/err" && [[ $(grep -cE '^(other|same) CPU' "$tmp/out") -eq 4 ]]
}
if (( $(nproc) >= 2 )); then
  check "wakeup: four set-ups" wakeup_rows
else
  echo "skipped wakeup: four set-ups (it needs two CPUs; this process may run on $(nproc))" >&2
fi

echo "$passed passed, $failed failed"
((failed == 0))
