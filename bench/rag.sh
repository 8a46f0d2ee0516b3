#!/usr/bin/env bash
# Retrieval benchmarks (rag/bench_test.go): query latency over 10,000 and
# 100,000 chunks of 384-dimensional vectors, against chromem-go's own query on
# the same documents (the reference), a text query through the offline
# embedder, and the index build rate with the offline embedder.
# RAG_QUERIES sets the queries per size (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."

queries=${RAG_QUERIES:-100}
q=$(go test -run '^$' -bench 'BenchmarkQuery' -benchtime "${queries}x" ./rag)
b=$(go test -run '^$' -bench 'BenchmarkIndexBuild|BenchmarkOfflineEmbed' -benchtime 3s ./rag)
printf '%s\n%s\n' "$q" "$b" | grep '^Benchmark'
echo

# metric NAME UNIT: the value reported with UNIT on the benchmark line NAME.
metric() {
  printf '%s\n%s\n' "$q" "$b" | awk -v name="$1" -v unit="$2" '
    { sub(/-[0-9]+$/, "", $1) }
    $1 == name { for (i = 3; i <= NF; i++) if ($i == unit) { print $(i-1); exit } }'
}

for n in 10000 100000; do
  ours=$(metric "BenchmarkQuery/chunks=$n" p50-ms)
  ref=$(metric "BenchmarkQueryChromem/chunks=$n" p50-ms)
  awk -v n="$n" -v o="$ours" -v r="$ref" 'BEGIN {
    printf "rag query p50, %d chunks: %.2f ms; chromem-go query %.2f ms; ratio %.1fx faster", n, o, r, r / o
    if (n == 100000) printf "; target < 25 ms: %s", (o < 25 ? "met" : "MISSED")
    printf "\n" }'
done
text=$(metric BenchmarkQueryText p50-ms)
echo "rag text query p50 (offline embedder + search), 100000 chunks: ${text} ms"
echo "rag index build, offline embedder (scan, parse, chunk, embed, save): $(metric BenchmarkIndexBuild chunks/s) chunks/s"
echo "rag offline embedder alone (200-word chunks): $(metric BenchmarkOfflineEmbed chunks/s) chunks/s"
