#!/usr/bin/env bash
# Orchestrator fan-out against the critical-path bound: plans of 1, 8 and 32
# tasks, every task one request to the fake model server (fixed 50 ms
# latency, real HTTP), at most 8 requests in flight. Prints wall time divided
# by max(critical path, ceil(tasks/8)) x latency; the target is <= 1.10.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkCriticalPath' -benchtime "${BENCHTIME:-20x}" ./orchestrator)
echo "$out" | awk '
  /^BenchmarkCriticalPath\// {
    name = $1; sub(/^BenchmarkCriticalPath\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 1; i <= NF; i++) { if ($i == "x-bound") ratio = $(i-1); if ($i == "bound-ms") bound = $(i-1) }
    printf "orchestrator %s (bound %s ms): %.3fx critical-path bound (target <= 1.10)\n", name, bound, ratio
    if (ratio > 1.10) bad = 1
  }
  END { exit bad }'
