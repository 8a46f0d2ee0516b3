#!/usr/bin/env bash
# Retrieval benchmarks (rag/bench_test.go): query latency over 10,000 and
# 100,000 chunks of 384-dimensional vectors, against chromem-go's own query on
# the same documents (the reference), in the same run; the recall@10 of the
# int8 scan with exact re-ranking against the exact float32 search on the same
# index and queries; the memory per chunk; a text query through the offline
# embedder; and the index build rate with the offline embedder.
# RAG_QUERIES sets the queries per size (default 100), COUNT the repetitions
# (default 3; medians are printed).
set -euo pipefail
cd "$(dirname "$0")/.."

queries=${RAG_QUERIES:-100}
count=${COUNT:-3}
q=$(go test -run '^$' -bench 'BenchmarkQuery' -benchtime "${queries}x" -count "$count" ./rag)
b=$(go test -run '^$' -bench 'BenchmarkIndexBuild|BenchmarkOfflineEmbed' -benchtime 3s ./rag)
printf '%s\n%s\n' "$q" "$b" | grep '^Benchmark'
echo

# metric NAME UNIT: the median of the values reported with UNIT on the
# benchmark lines NAME.
metric() {
  printf '%s\n%s\n' "$q" "$b" | awk -v name="$1" -v unit="$2" '
    { sub(/-[0-9]+$/, "", $1) }
    $1 == name { for (i = 3; i <= NF; i++) if ($i == unit) print $(i-1) }' |
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

for n in 10000 100000; do
  ours=$(metric "BenchmarkQuery/chunks=$n" p50-ms)
  ref=$(metric "BenchmarkQueryChromem/chunks=$n" p50-ms)
  recall=$(metric "BenchmarkQuery/chunks=$n" recall@10)
  awk -v n="$n" -v o="$ours" -v r="$ref" -v rc="$recall" -v c="$count" 'BEGIN {
    printf "rag query p50, %d chunks (median of %d runs): %.2f ms; chromem-go query %.2f ms; ratio %.1fx faster; recall@10 vs exact %.3f", n, c, o, r, r / o, rc
    if (n == 100000) printf "; target < 10 ms with recall >= 0.99: %s", (o < 10 && rc >= 0.99 ? "met" : "MISSED")
    printf "\n" }'
done
echo "rag memory per chunk, 100000 chunks: vectors $(metric BenchmarkQuery/chunks=100000 vector-B/chunk) B (float32 once + int8 codes), whole heap $(metric BenchmarkQuery/chunks=100000 heap-B/chunk) B (text and metadata included)"
text=$(metric BenchmarkQueryText p50-ms)
echo "rag text query p50 (offline embedder + search), 100000 chunks: ${text} ms"
echo "rag index build, offline embedder (scan, parse, chunk, embed, save): $(metric BenchmarkIndexBuild chunks/s) chunks/s"
echo "rag offline embedder alone (200-word chunks): $(metric BenchmarkOfflineEmbed chunks/s) chunks/s"
