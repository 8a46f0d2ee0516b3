#!/usr/bin/env bash
# Orchestrator wall time against the critical-path bound, with the fake model
# server answering every request after a fixed 50 ms over real HTTP and at
# most 8 requests in flight, for plans of 1, 8 and 32 tasks:
#   fanout    the DAG scheduler alone: one request per task;
#   pipeline  Analyzer -> Planner -> Implementer (+ test writing) -> Validator,
#             minus the Validator's sandboxed pytest time, which is not model work.
# Prints wall / bound for each; the target is <= 1.10.
set -euo pipefail
cd "$(dirname "$0")/.."
report() {
  awk -v kind="$1" '
    /^Benchmark[A-Za-z]+\// {
      name = $1; sub(/^Benchmark[A-Za-z]+\//, "", name); sub(/-[0-9]+$/, "", name)
      for (i = 1; i <= NF; i++) { if ($i == "x-bound") ratio = $(i-1); if ($i == "bound-ms") bound = $(i-1) }
      printf "orchestrator %-8s %-9s (bound %4d ms): %.3fx the critical-path bound (target <= 1.10)\n", kind, name, bound, ratio
    }'
}
go test -run '^$' -bench 'BenchmarkCriticalPath' -benchtime "${BENCHTIME:-20x}" ./orchestrator | report fanout
go test -run '^$' -bench 'BenchmarkPipeline' -benchtime "${PIPELINE_BENCHTIME:-5x}" ./orchestrator | report pipeline
