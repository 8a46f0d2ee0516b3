#!/usr/bin/env bash
# Sandbox overhead: the same small pytest suite (20 tests) run plainly with
# `python3 -m pytest`, through sandbox.Run at the best isolation level, and
# through the whole Validator (tree-sitter + compile + pytest in the
# sandbox). Runs are interleaved so machine load hits all three alike; the
# ratios compare medians. Target: sandbox under 1.15x.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-15}"
out="$(go test -run '^$' -bench 'BenchmarkOverheadRatio$' -benchtime "${N}x" ./validate/)"
line="$(grep '^BenchmarkOverheadRatio' <<<"$out" || true)"
if [ -z "$line" ]; then
  echo "$out"
  echo "sandbox: benchmark did not run (is python3 with pytest installed?)"
  exit 1
fi
metric() { awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}' <<<"$line"; }
level="$(go test -run 'TestDetectExplainsEveryLevel' -v ./sandbox/ 2>/dev/null | sed -n 's/.*best level here: \([a-z]*\).*/\1/p' | head -1)"
echo "sandbox: suite of 20 tests, $N interleaved runs, isolation ${level:-unknown}"
echo "sandbox: python3 -m pytest $(metric pytest-ms) ms, sandboxed $(metric sandboxed-ms) ms, r2c validate $(metric validate-ms) ms (medians)"
echo "sandbox: sandboxed pytest vs plain pytest: $(metric sandbox-ratio)x (target < 1.15x)"
echo "validate: whole validator vs plain pytest: $(metric validate-ratio)x"
go test -run '^$' -bench 'BenchmarkRunTrue' -benchtime 20x ./sandbox/ | awk '/^BenchmarkRunTrue/ {name = $1; sub(/^BenchmarkRunTrue\//, "", name); sub(/-[0-9]+$/, "", name); printf "sandbox: fixed cost of one run at level %s: %.1f ms\n", name, $3/1e6}'
