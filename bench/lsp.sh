#!/usr/bin/env bash
# Language-server latency and memory, measured end to end through the
# JSON-RPC pipe by the fake editor (lsp/lsptest): code-action round trips and
# the time from a keystroke in a 2,000-line Python file to its diagnostics
# (no debounce; a letter at a random column, and a space at column 0),
# then the resident memory of an idle `r2c serve` process.
# The latency benchmarks run COUNT times (default 3) and the medians are
# printed, each against its target with the ratio (< 1.00 meets it).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${BENCHTIME:-300x}"
lat=$(go test -run '^$' -bench 'BenchmarkCodeAction|BenchmarkDiagnosticsAfter' -benchtime "$n" -count "${COUNT:-3}" ./lsp)
mem=$(go test -run '^$' -bench 'BenchmarkServeIdleRSS' -benchtime 5x ./cmd/r2c)
printf '%s\n%s\n' "$lat" "$mem" | awk '
  function metric(line, unit,   i) { for (i = 1; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
  function median(a, n,   i, j, t) {
    if (n == 0) return ""
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return a[int((n + 1) / 2)]
  }
  /^BenchmarkCodeAction/           { ca50s[++nca] = metric($0, "p50-ms"); ca90s[nca] = metric($0, "p90-ms") }
  /^BenchmarkDiagnosticsAfterEdit/ { di50s[++ndi] = metric($0, "p50-ms"); di90s[ndi] = metric($0, "p90-ms") }
  /^BenchmarkDiagnosticsAfterIndentEdit/ { in50s[++nin] = metric($0, "p50-ms"); in90s[nin] = metric($0, "p90-ms") }
  /^BenchmarkServeIdleRSS/         { rss = metric($0, "rss-MB") }
  END {
    ca50 = median(ca50s, nca); ca90 = median(ca90s, nca); di50 = median(di50s, ndi); di90 = median(di90s, ndi)
    in50 = median(in50s, nin); in90 = median(in90s, nin)
    bad = 0
    printf "lsp code action (2,000-line file)   p50 %7.3f ms  p90 %7.3f ms  target p50 < 5 ms   ratio %.2f\n", ca50, ca90, ca50 / 5
    printf "lsp diagnostics after an edit       p50 %7.3f ms  p90 %7.3f ms  target p50 < 3 ms   ratio %.2f\n", di50, di90, di50 / 3
    printf "lsp diagnostics, space at column 0  p50 %7.3f ms  p90 %7.3f ms  (breaks the indentation: the worst keystroke for tree-sitter)\n", in50, in90
    printf "lsp idle RSS of r2c serve           %7.1f MB                       target < 60 MB      ratio %.2f\n", rss, rss / 60
    if (ca50 == "" || di50 == "" || rss == "") { print "missing figures"; exit 1 }
    if (ca50 >= 5 || di50 >= 3 || rss >= 60) bad = 1
    exit bad
  }'
