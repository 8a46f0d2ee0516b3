#!/usr/bin/env bash
# Model-client overhead per call against the fake TGI server (real HTTP on
# loopback, no model latency): r2c's llm.Client beside go-openai alone and
# plain net/http + encoding/json, for a JSON answer and a 64-chunk SSE
# answer. Prints time ratios and the absolute overhead per call; the target
# is an overhead under 1 ms per call (a 7B model answers in seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkChat' -benchtime "${BENCHTIME:-3000x}" -count "${COUNT:-3}" ./llm)
echo "$out" | awk '
  /^BenchmarkChat/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    sum[name] += $3; n[name]++
  }
  function avg(k) { return n[k] ? sum[k] / n[k] : 0 }
  END {
    split("BenchmarkChat BenchmarkChatStream", groups, " ")
    for (g = 1; g <= 2; g++) {
      base = groups[g]; mine = avg(base "/llm")
      for (ref in n) {
        if (index(ref, base "/") != 1 || ref == base "/llm") continue
        if (base == "BenchmarkChat" && index(ref, "BenchmarkChatStream") == 1) continue
        r = avg(ref)
        label = substr(ref, length(base) + 2)
        printf "llm %s vs %s: %.2fx (%.0f us vs %.0f us per call, overhead %+.0f us)\n", \
          (base == "BenchmarkChat" ? "chat" : "stream"), label, mine / r, mine / 1000, r / 1000, (mine - r) / 1000
        if (mine - r > 1e6) bad = 1
      }
    }
    exit bad
  }'
