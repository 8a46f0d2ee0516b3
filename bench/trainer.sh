#!/usr/bin/env bash
# r2c train dataset throughput on a large real repository history, against
# `git log -p` over the same history in the same run (the floor: reading
# every commit's diff once). Goal: the dataset with --author (git blame per
# file) within 3x of the floor. Wall and CPU (user+sys of the process and
# its children) are both printed: on a shared machine wall time also
# measures the neighbours.
#
# REPO names the repository (a work tree or a bare clone); the default is
# psf/requests (6,489 commits) where a mirror of it exists. AUTHOR is the
# --author given (default: the most frequent author email of REPO).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=${REPO:-/work/.mirror/psf+requests/repo}
[ -d "$REPO" ] || { echo "trainer: no repository at $REPO (set REPO=...), skipped"; exit 0; }
command -v git >/dev/null || { echo "trainer: git not installed, skipped"; exit 0; }
command -v go >/dev/null || { echo "trainer: go not installed, skipped"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/r2c" ./cmd/r2c
AUTHOR=${AUTHOR:-$(git -C "$REPO" log --format=%ae HEAD | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')}
commits=$(git -C "$REPO" rev-list --count HEAD)

# timed CMD...: the best of 2 runs, printed as "wall cpu" seconds
timed() {
  local best_w="" best_c="" w u s
  for _ in 1 2; do
    /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" >/dev/null 2>&1
    read -r w u s < "$work/t"
    best_w=$(awk -v a="${best_w:-1e9}" -v b="$w" 'BEGIN{print (b<a)?b:a}')
    best_c=$(awk -v a="${best_c:-1e9}" -v u="$u" -v s="$s" 'BEGIN{c=u+s; print (c<a)?c:a}')
  done
  echo "$best_w $best_c"
}
[ -x /usr/bin/time ] || { echo "trainer: /usr/bin/time not installed (apt-get install time), skipped"; exit 0; }

read -r lw lc < <(timed git -C "$REPO" log -p HEAD)
read -r dw dc < <(timed "$work/r2c" train dataset --repo "$REPO" --out "$work/ds" --workers 2)
read -r aw ac < <(timed "$work/r2c" train dataset --repo "$REPO" --author "$AUTHOR" --out "$work/ds-author" --workers 2)
records=$(cat "$work/ds/"*.jsonl | wc -l)
echo "trainer: $REPO, $commits commits; --author $AUTHOR"
echo "trainer: git log -p (floor)          wall ${lw}s cpu ${lc}s"
echo "trainer: dataset, HEAD only          wall ${dw}s cpu ${dc}s ($records records)"
echo "trainer: dataset --author (blame)    wall ${aw}s cpu ${ac}s"
awk -v a="$aw" -v l="$lw" -v ac="$ac" -v lc="$lc" 'BEGIN{printf "trainer: dataset --author / git log -p: wall %.2fx, cpu %.2fx (goal <= 3x)\n", a/l, ac/lc}'
