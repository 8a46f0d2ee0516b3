#!/usr/bin/env bash
# PDF reading speed: pages per second of `r2c paper sections` (full parse:
# layout, sections, equations, tables) against poppler's `pdftotext` (text
# only) on the same PDF, both as fresh processes, in one run. Target: r2c at
# least 0.5x pdftotext. The PDF is a 20-odd-page two-column paper made by
# pdflatex from paper/testdata/twocol.tex with its body repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in pdflatex pdftotext go; do
  command -v "$tool" >/dev/null || { echo "paper: $tool not installed, skipped"; exit 0; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=paper/testdata/twocol.tex
{
  sed -n '1,/^\\section{Introduction}/p' "$src" | sed '$d'
  body=$(sed -n '/^\\section{Introduction}/,/^\\begin{thebibliography}/p' "$src" | sed '$d')
  for _ in $(seq 10); do printf '%s\n' "$body"; done
  sed -n '/^\\begin{thebibliography}/,$p' "$src"
} > "$work/big.tex"
(cd "$work" && pdflatex -interaction=nonstopmode -halt-on-error big.tex >/dev/null)
go build -o "$work/r2c" ./cmd/r2c
pdf="$work/big.pdf"
pages=$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
runs=${RUNS:-20}
now() { date +%s%N; }
"$work/r2c" paper sections "$pdf" >/dev/null   # warm the page cache
t0=$(now); for _ in $(seq "$runs"); do pdftotext "$pdf" /dev/null; done; t1=$(now)
for _ in $(seq "$runs"); do "$work/r2c" paper sections "$pdf" >/dev/null; done; t2=$(now)
awk -v p="$pages" -v n="$runs" -v a="$((t1 - t0))" -v b="$((t2 - t1))" 'BEGIN {
  ref = p * n / (a / 1e9); ours = p * n / (b / 1e9)
  printf "paper: %d pages x %d runs: pdftotext %.0f pages/s, r2c paper sections %.0f pages/s\n", p, n, ref, ours
  printf "paper: pages/s ratio r2c/pdftotext: %.2fx (target >= 0.5x)\n", ours / ref
}'
