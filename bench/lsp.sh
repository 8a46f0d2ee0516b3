#!/usr/bin/env bash
# Language-server latency and memory, measured end to end through the
# JSON-RPC pipe by the fake editor (lsp/lsptest): code-action round trips and
# the time from an edit of a 2,000-line Python file to its diagnostics
# (debounce 1 ms), then the resident memory of an idle `r2c serve` process.
# Prints each figure against its target and the ratio (< 1.00 meets it).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${BENCHTIME:-300x}"
lat=$(go test -run '^$' -bench 'BenchmarkCodeAction|BenchmarkDiagnosticsAfterEdit' -benchtime "$n" ./lsp)
mem=$(go test -run '^$' -bench 'BenchmarkServeIdleRSS' -benchtime 5x ./cmd/r2c)
printf '%s\n%s\n' "$lat" "$mem" | awk '
  function metric(line, unit,   i) { for (i = 1; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
  /^BenchmarkCodeAction/           { ca50 = metric($0, "p50-ms"); ca90 = metric($0, "p90-ms") }
  /^BenchmarkDiagnosticsAfterEdit/ { di50 = metric($0, "p50-ms"); di90 = metric($0, "p90-ms") }
  /^BenchmarkServeIdleRSS/         { rss = metric($0, "rss-MB") }
  END {
    bad = 0
    printf "lsp code action (2,000-line file)   p50 %7.3f ms  p90 %7.3f ms  target p50 < 5 ms   ratio %.2f\n", ca50, ca90, ca50 / 5
    printf "lsp diagnostics after an edit       p50 %7.3f ms  p90 %7.3f ms  target p50 < 20 ms  ratio %.2f\n", di50, di90, di50 / 20
    printf "lsp idle RSS of r2c serve           %7.1f MB                       target < 60 MB      ratio %.2f\n", rss, rss / 60
    if (ca50 == "" || di50 == "" || rss == "") { print "missing figures"; exit 1 }
    if (ca50 >= 5 || di50 >= 20 || rss >= 60) bad = 1
    exit bad
  }'
