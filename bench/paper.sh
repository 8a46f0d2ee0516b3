#!/usr/bin/env bash
# Paper ingestion on the real-paper corpus (paper/testdata/corpus: 8 arXiv
# and ACL PDFs with hand-written truth.json), in one run:
#   - r2c: heading recall and precision, phrases whole in their section,
#     captions attached to the right section (TestCorpus's figures);
#   - the same phrases in pdftotext -layout and PyMuPDF (whole-document
#     text, no sections), side by side;
#   - pages per second of `r2c paper sections` (full parse) against
#     `pdftotext -layout` on the same files, both as fresh processes.
# Goals: recall and precision >= 98%, every phrase whole, r2c at least
# 0.5x pdftotext's pages/s (no slower than 2x).
# PyMuPDF is installed once, pinned, into a cached venv.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in pdftotext pdfinfo go python3; do
  command -v "$tool" >/dev/null || { echo "paper: $tool not installed, skipped"; exit 0; }
done
corpus=paper/testdata/corpus
venv=${R2C_PYMUPDF_VENV:-/var/cache/r2c/venv-pymupdf}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pymupdf' 2>/dev/null; then
  python3 -m venv "$venv" && PIP_CACHE_DIR=/var/cache/r2c/pip "$venv/bin/pip" install -q pymupdf==1.26.3 ||
    echo "paper: could not install PyMuPDF into $venv; its column is skipped"
fi
py="$venv/bin/python"; [ -x "$py" ] || py=python3

echo "paper: r2c on the corpus (TestCorpus) and on held-out papers never tuned on (TestHeldout, headings only)"
R2C_CORPUS_REPORT=1 go test ./paper -run '^(TestCorpus|TestHeldout)$' -count=1 -v | grep -E '^(corpus|heldout):' | sed -E 's/^(corpus|heldout):/paper: r2c \1:/'
echo "paper: the same phrases in other extractors"
"$py" bench/paper_phrases.py "$corpus"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/r2c" ./cmd/r2c
pages=0
for f in "$corpus"/*.pdf; do pages=$((pages + $(pdfinfo "$f" | awk '/^Pages:/ {print $2}'))); done
runs=${RUNS:-5}
now() { date +%s%N; }
for f in "$corpus"/*.pdf; do "$work/r2c" paper sections "$f" >/dev/null; done   # warm the page cache
t0=$(now)
for _ in $(seq "$runs"); do for f in "$corpus"/*.pdf; do pdftotext -layout "$f" /dev/null; done; done
t1=$(now)
for _ in $(seq "$runs"); do for f in "$corpus"/*.pdf; do "$work/r2c" paper sections "$f" >/dev/null; done; done
t2=$(now)
awk -v p="$pages" -v n="$runs" -v a="$((t1 - t0))" -v b="$((t2 - t1))" 'BEGIN {
  ref = p * n / (a / 1e9); ours = p * n / (b / 1e9)
  printf "paper: %d corpus pages x %d runs: pdftotext -layout %.0f pages/s, r2c paper sections %.0f pages/s\n", p, n, ref, ours
  printf "paper: pages/s ratio r2c/pdftotext: %.2fx (target >= 0.5x)\n", ours / ref
}'
