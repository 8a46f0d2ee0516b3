#!/usr/bin/env bash
# Model-client overhead per call against the fake TGI server (real HTTP on
# loopback, no model latency): r2c's llm.Client beside go-openai alone.
#
# The target rows, "paired": BenchmarkChatPaired runs llm.Client and
# go-openai alone in alternating rounds of about 10 ms within one
# benchmark (100 JSON answers, or 10 streamed ones), so that the machine's
# drift (10-30 % over seconds on a shared virtual machine, far more than
# the overhead) lands on both alike, and reports the median round ratio;
# the script takes the median of PAIRED_COUNT (7) runs. The target, 1.03x,
# is held at GOMAXPROCS 1, where runs agree within about 1 %: the overhead
# is the client's CPU work. At GOMAXPROCS 2 the same code measures 0.98x in
# one run and 1.09x in the next (where the scheduler happens to put each
# side's connection goroutines and the server's decides it), so those rows
# are printed with their range and no verdict.
#
# Then, for reference, each side run on its own, one after the other
# (medians of COUNT runs): llm.Client, go-openai alone, go-openai with a
# context deadline per call, plain net/http + encoding/json, for a JSON
# answer and a 64-chunk SSE answer. An overhead over 1 ms per call (a 7B
# model answers in seconds) fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
paired=$(go test -run '^$' -bench 'BenchmarkChatPaired' -benchtime "${PAIRED_BENCHTIME:-2s}" -count "${PAIRED_COUNT:-7}" -cpu 1,2 ./llm)
echo "$paired" | awk '
  /^BenchmarkChatPaired\// {
    name = $1; sub(/^BenchmarkChatPaired\//, "", name)
    procs = 1; if (match(name, /-[0-9]+$/)) { procs = substr(name, RSTART + 1); name = substr(name, 1, RSTART - 1) }
    k = name SUBSEP procs; keys[k] = 1; c = ++n[k]
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ratio") r[k, c] = $i
      if ($(i+1) == "llm-ns/call") m[k, c] = $i
      if ($(i+1) == "go-openai-ns/call") g[k, c] = $i
    }
  }
  function median(arr, k, cnt,   i, j, t) {
    for (i = 1; i <= cnt; i++) a[i] = arr[k, i]
    for (i = 2; i <= cnt; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return cnt % 2 ? a[(cnt+1)/2] : (a[cnt/2] + a[cnt/2+1]) / 2
  }
  END {
    split("json stream", kinds, " ")
    for (x = 1; x <= 2; x++) for (procs = 1; procs <= 2; procs++) {
      k = kinds[x] SUBSEP procs; cnt = n[k]; if (!cnt) continue
      ratio = median(r, k, cnt)
      lo = 1e9; hi = 0
      for (i = 1; i <= cnt; i++) { if (r[k, i] < lo) lo = r[k, i]; if (r[k, i] > hi) hi = r[k, i] }
      verdict = procs == 1 ? (ratio <= 1.03 ? " (target <= 1.03x: met)" : " (target <= 1.03x: MISSED)") : " (scheduler placement decides; no verdict)"
      printf "llm %s vs go-openai, paired rounds, GOMAXPROCS=%d: %.3fx (runs %.3f-%.3f; %.1f us vs %.1f us per call, median of %d)%s\n", \
        (kinds[x] == "json" ? "chat" : "stream"), procs, ratio, lo, hi, median(m, k, cnt) / 1000, median(g, k, cnt) / 1000, cnt, verdict
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
        printf "llm %s vs %s, one after the other: %.3fx (%.1f us vs %.1f us per call, overhead %+.1f us, median of %d)\n", \
          (base == "BenchmarkChat" ? "chat" : "stream"), label, mine / r, mine / 1000, r / 1000, (mine - r) / 1000, n[ref]
        if (mine - r > 1e6) bad = 1
      }
    }
    exit bad
  }'
