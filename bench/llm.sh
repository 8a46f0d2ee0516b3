#!/usr/bin/env bash
# Model-client overhead per call against the fake TGI server (real HTTP on
# loopback, no model latency): r2c's llm.Client beside go-openai alone,
# go-openai with a deadline per call (as r2c bounds each attempt), and
# plain net/http + encoding/json, for a JSON answer and a 64-chunk SSE
# answer. Prints time ratios and the absolute overhead per call, medians of
# COUNT (5) runs; the targets are 1.03x go-openai alone, and an overhead
# under 1 ms per call (a 7B model answers in seconds), which fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkChat' -benchtime "${BENCHTIME:-3000x}" -count "${COUNT:-5}" ./llm)
# Medians over the -count runs (the sub-benchmarks alternate, so a noisy
# moment hits one run of each, not one side).
echo "$out" | awk '
  /^BenchmarkChat/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    v[name, ++n[name]] = $3
  }
  function median(k,   i, j, t, m) {
    m = n[k]
    for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
  }
  END {
    split("BenchmarkChat BenchmarkChatStream", groups, " ")
    for (g = 1; g <= 2; g++) {
      base = groups[g]; mine = median(base "/llm")
      for (ref in n) {
        if (index(ref, base "/") != 1 || ref == base "/llm") continue
        if (base == "BenchmarkChat" && index(ref, "BenchmarkChatStream") == 1) continue
        r = median(ref)
        label = substr(ref, length(base) + 2)
        verdict = ""
        if (label == "go-openai") verdict = (mine / r <= 1.03 ? " (target <= 1.03x: met)" : " (target <= 1.03x: MISSED)")
        printf "llm %s vs %s: %.3fx (%.1f us vs %.1f us per call, overhead %+.1f us, median of %d)%s\n", \
          (base == "BenchmarkChat" ? "chat" : "stream"), label, mine / r, mine / 1000, r / 1000, (mine - r) / 1000, n[ref], verdict
        if (mine - r > 1e6) bad = 1
      }
    }
    exit bad
  }'
