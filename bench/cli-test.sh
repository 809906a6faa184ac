#!/usr/bin/env bash
# Checks scripts/bench's contract with its users, in about a minute:
# exit 2 and a usage for bad command lines, exit 1 and a one-line reason for
# files it cannot use, and nothing but JSON lines on stdout under --json.
# Usage: bench/cli-test.sh    (prints 'N passed, N failed'; exit 1 if any failed)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/scripts/bench"
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
expect "missing file" 1 "^scripts/bench: no such file: $tmp/none$" -- --file "$tmp/none"
head -c 4096 /dev/urandom >"$tmp/small.dat"
expect "file too small" 1 "holds 4096 bytes, less than one --bs block of 8192" -- --file "$tmp/small.dat" --bs 8k
head -c 65536 /dev/urandom >"$tmp/data.dat"
expect "misaligned bs" 1 "--bs 1000 is not a multiple of [0-9]+, the O_DIRECT alignment of" -- --file "$tmp/data.dat" --bs 1000
if [[ -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  expect "no O_DIRECT" 1 "without O_DIRECT: use --buffered" -- --file /sys/kernel/mm/transparent_hugepage/enabled
fi

# --json: one JSON object per engine on stdout, with the documented keys, and nothing else.
if "$bench" nullread --engine panaio --qd 2 --seconds 0.3 --warmup 0.2 --json >"$tmp/out" 2>"$tmp/err" \
    && python3 - "$tmp/out" <<'EOF'
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

echo "$passed passed, $failed failed"
((failed == 0))
