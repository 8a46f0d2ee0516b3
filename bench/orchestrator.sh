#!/usr/bin/env bash
# Orchestrator wall time against the critical-path bound, with the fake model
# server answering every request after a fixed 50 ms over real HTTP and at
# most 8 requests in flight, for plans of 1, 8 and 32 tasks:
#   fanout    the DAG scheduler alone: one request per task;
#   pipeline  Analyzer -> Planner -> Implementer (+ test writing) -> Validator,
#             minus the Validator's sandboxed pytest time, which is not model work.
# Prints wall / bound for each; the target is <= 1.10.
# Then the prompt budget on examples/attention (the scripted model of
# TestEvidenceReachesTheModelAtSmallContexts, a server that enforces its
# limit and tokenizes): tokens sent per agent and round by part, at 3072,
# 4096 and 8192 tokens of context, and the time spent building prompts
# (counting included: one /tokenize round trip per new text).
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
table=$(mktemp)
trap 'rm -f "$table"' EXIT
R2C_PROMPT_TABLE="$table" go test -count=1 -run '^TestEvidenceReachesTheModelAtSmallContexts$' ./orchestrator >/dev/null
echo
echo "prompt tokens sent, examples/attention (sums over the calls of each agent and round; answer = max_tokens)"
cat "$table"
