#!/usr/bin/env bash
# Model-client overhead per call against the fake TGI server (real HTTP on
# loopback, no model latency): r2c's llm.Client beside go-openai alone.
#
# The target row, "paired": BenchmarkChatPaired runs llm.Client and
# go-openai alone in alternating rounds of 100 calls within one benchmark,
# so that the machine's drift (10-30 % over seconds on a shared virtual
# machine, far more than the overhead) lands on both alike; it is run with
# GOMAXPROCS 2 (the machine) and 1, and the median round ratio of each run
# is taken, then the median of COUNT (5) runs. The target is 1.03x at
# GOMAXPROCS 2.
#
# Then, for reference, each side run on its own, one after the other
# (medians of COUNT runs): llm.Client, go-openai alone, go-openai with a
# context deadline per call, plain net/http + encoding/json, for a JSON
# answer and a 64-chunk SSE answer. An overhead over 1 ms per call (a 7B
# model answers in seconds) fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
paired=$(go test -run '^$' -bench 'BenchmarkChatPaired' -benchtime "${PAIRED_BENCHTIME:-20000x}" -count "${COUNT:-5}" -cpu 2,1 ./llm)
echo "$paired" | awk '
  /^BenchmarkChatPaired/ {
    procs = 1; if (match($1, /-[0-9]+$/)) procs = substr($1, RSTART + 1)
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ratio") r[procs, ++n[procs]] = $i
      if ($(i+1) == "llm-ns/call") m[procs, n[procs] + 1] = $i
      if ($(i+1) == "go-openai-ns/call") g[procs, n[procs] + 1] = $i
    }
  }
  function median(arr, p, k,   i, j, t) {
    for (i = 1; i <= k; i++) a[i] = arr[p, i]
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
  }
  END {
    for (procs = 2; procs >= 1; procs--) {
      k = n[procs]; if (!k) continue
      ratio = median(r, procs, k)
      lo = 1e9; hi = 0
      for (i = 1; i <= k; i++) { if (r[procs, i] < lo) lo = r[procs, i]; if (r[procs, i] > hi) hi = r[procs, i] }
      verdict = procs == 2 ? (ratio <= 1.03 ? " (target <= 1.03x: met)" : " (target <= 1.03x: MISSED)") : ""
      printf "llm chat vs go-openai, paired rounds, GOMAXPROCS=%d: %.3fx (runs %.3f-%.3f; %.1f us vs %.1f us per call, median of %d)%s\n", \
        procs, ratio, lo, hi, median(m, procs, k) / 1000, median(g, procs, k) / 1000, k, verdict
    }
  }'
out=$(go test -run '^$' -bench 'BenchmarkChat(Stream)?$' -benchtime "${BENCHTIME:-3000x}" -count "${COUNT:-5}" ./llm)
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
        if (label == "go-openai" && base == "BenchmarkChatStream") verdict = (mine / r <= 1.03 ? " (target <= 1.03x: met)" : " (target <= 1.03x: MISSED)")
        printf "llm %s vs %s, one after the other: %.3fx (%.1f us vs %.1f us per call, overhead %+.1f us, median of %d)%s\n", \
          (base == "BenchmarkChat" ? "chat" : "stream"), label, mine / r, mine / 1000, r / 1000, (mine - r) / 1000, n[ref], verdict
        if (mine - r > 1e6) bad = 1
      }
    }
    exit bad
  }'
