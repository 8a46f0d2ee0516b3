#!/usr/bin/env bash
# Style engine speed, in one run:
#   - full analysis + scoring of a 2,000-line file (target < 15 ms)
#   - one-character edit in an open 2,000-line document: incremental re-parse
#     and full re-check (target < 5 ms)
#   - throughput on the Python standard library: r2c's Stats (tree-sitter
#     parse + the whole style analysis) against CPython's ast.parse +
#     ast.walk on the same files, single core and all cores (in-process);
#   - whole process: `r2c style stats --json` on the top-level stdlib files
#     over 40 kB against one `python3` process doing ast.parse + ast.walk on
#     the same files (target >= 2x), runs interleaved, medians of RUNS (5).
# Wall and process-CPU times are both printed: on a shared machine wall time
# also measures the neighbours. Set PYTHON to choose the interpreter (and so
# the stdlib); default /usr/bin/python3, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "style: python3 not installed, skipped"; exit 0; }
command -v go >/dev/null || { echo "style: go not installed, skipped"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The stdlib files CPython itself can parse, so both sides read the same set.
"$PY" - > "$work/files" <<'PYEOF'
import ast, os, sysconfig
root = sysconfig.get_paths()["stdlib"]
for d, dirs, files in os.walk(root):
    dirs[:] = sorted(x for x in dirs if x not in ("site-packages", "dist-packages"))
    for f in sorted(files):
        if f.endswith(".py"):
            p = os.path.join(d, f)
            try:
                ast.parse(open(p, "rb").read())
            except Exception:
                continue
            print(p)
PYEOF
nfiles=$(wc -l < "$work/files")
mb=$(xargs cat < "$work/files" | wc -c | awk '{printf "%.1f", $1/1e6}')

"$PY" - "$work/files" > "$work/py" <<'PYEOF'
import ast, sys, time
srcs = [open(p, "rb").read() for p in open(sys.argv[1]).read().split()]
best_wall = best_cpu = float("inf")
for _ in range(2):
    w, c = time.perf_counter(), time.process_time()
    nodes = 0
    for s in srcs:
        for _node in ast.walk(ast.parse(s)):
            nodes += 1
    best_wall = min(best_wall, time.perf_counter() - w)
    best_cpu = min(best_cpu, time.process_time() - c)
print(best_wall, best_cpu, nodes)
PYEOF
read -r py_wall py_cpu py_nodes < "$work/py"

R2C_BENCH_FILES="$work/files" go test -run '^$' -count 1 \
  -bench '^Benchmark(Check2000Lines|IncrementalEdit)$' -benchtime 200x -cpu 1 ./style/ > "$work/go1"
R2C_BENCH_FILES="$work/files" go test -run '^$' -count 1 \
  -bench '^BenchmarkStdlib$' -benchtime 2x -cpu 1 ./style/ > "$work/go2"
R2C_BENCH_FILES="$work/files" go test -run '^$' -count 1 \
  -bench '^BenchmarkStdlibParallel$' -benchtime 2x ./style/ > "$work/go3"

# Whole process: both sides start from nothing and read the files
# themselves. Interleaved runs so load hits both alike; wall and CPU
# (user + system of the child, from wait4) medians.
"$PY" - > "$work/big" <<'PYEOF'
import ast, glob, os, sysconfig
root = sysconfig.get_paths()["stdlib"]
for p in sorted(glob.glob(os.path.join(root, "*.py"))):
    if os.path.getsize(p) > 40_000:
        try:
            ast.parse(open(p, "rb").read())
        except Exception:
            continue
        print(p)
PYEOF
go build -o "$work/r2c" ./cmd/r2c
cat > "$work/walk.py" <<'PYEOF'
import ast, sys
n = 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        for _ in ast.walk(ast.parse(f.read())):
            n += 1
print(n)
PYEOF
"$PY" - "$work" "$PY" "${RUNS:-5}" > "$work/proc" <<'PYEOF'
import os, statistics, subprocess, sys, time
work, py, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = open(os.path.join(work, "big")).read().split()
lines = sum(open(p, "rb").read().count(b"\n") for p in files)
cmds = {"py": [py, os.path.join(work, "walk.py")] + files,
        "r2c": [os.path.join(work, "r2c"), "style", "stats", "--json"] + files}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(runs):
    for k, c in cmds.items():
        t = time.perf_counter()
        p = subprocess.Popen(c, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit(f"{c[0]} failed with status {status}")
        wall[k].append(time.perf_counter() - t)
        cpu[k].append(ru.ru_utime + ru.ru_stime)
m = lambda xs: statistics.median(xs)
print(len(files), lines, m(wall["py"]), m(cpu["py"]), m(wall["r2c"]), m(cpu["r2c"]))
PYEOF
read -r big_files big_lines pw_proc pc_proc rw_proc rc_proc < "$work/proc"

metric() { # file benchmark-name unit -> value
  awk -v b="$2" -v u="$3" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$1"
}
full_ns=$(metric "$work/go1" BenchmarkCheck2000Lines ns/op)
full_cpu=$(metric "$work/go1" BenchmarkCheck2000Lines cpu-ms/op)
inc_ns=$(metric "$work/go1" BenchmarkIncrementalEdit ns/op)
inc_cpu=$(metric "$work/go1" BenchmarkIncrementalEdit cpu-ms/op)
std_ns=$(metric "$work/go2" BenchmarkStdlib ns/op)
std_cpu=$(metric "$work/go2" BenchmarkStdlib cpu-ms/op)
par_ns=$(metric "$work/go3" BenchmarkStdlibParallel ns/op)
cores=$(getconf _NPROCESSORS_ONLN)

awk -v fn="$full_ns" -v fc="$full_cpu" -v in_="$inc_ns" -v ic="$inc_cpu" \
    -v sn="$std_ns" -v sc="$std_cpu" -v pn="$par_ns" -v pw="$py_wall" -v pc="$py_cpu" \
    -v files="$nfiles" -v mb="$mb" -v cores="$cores" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "style: machine: %d cores, load average %s\n", cores, load
  printf "style: full analysis, 2000 lines: %.1f ms wall, %.1f ms CPU (target < 15 ms)\n", fn / 1e6, fc
  printf "style: one-char edit, incremental re-check: %.2f ms wall, %.2f ms CPU (target < 5 ms)\n", in_ / 1e6, ic
  printf "style: stdlib, %d files, %s MB: CPython ast.parse+walk %.2f s wall / %.2f s CPU; r2c 1 core %.2f s wall / %.2f s CPU; r2c %d cores %.2f s wall\n", files, mb, pw, pc, sn / 1e9, sc / 1e3, cores, pn / 1e9
  printf "style: throughput ratio r2c/CPython, single core: %.2fx wall, %.2fx CPU (target >= 2x)\n", pw / (sn / 1e9), pc / (sc / 1e3)
  printf "style: throughput ratio r2c/CPython, all %d cores: %.2fx wall\n", cores, pw / (pn / 1e9)
}'
awk -v f="$big_files" -v l="$big_lines" -v pw="$pw_proc" -v pc="$pc_proc" -v rw="$rw_proc" -v rc="$rc_proc" \
    -v runs="${RUNS:-5}" -v cores="$(getconf _NPROCESSORS_ONLN)" 'BEGIN {
  printf "style: whole process, %d stdlib files over 40 kB (%d lines), median of %d interleaved runs: python3 ast.parse+walk %.2f s wall / %.2f s CPU; r2c style stats --json %.2f s wall / %.2f s CPU\n", f, l, runs, pw, pc, rw, rc
  printf "style: whole-process ratio r2c/CPython: %.2fx wall on %d cores (target >= 2x: %s), %.2fx CPU\n", pw / rw, cores, (pw / rw >= 2 ? "met" : "MISSED"), pc / rc
}'
