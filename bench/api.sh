#!/usr/bin/env bash
# bench/api.sh: a bounded load test of `r2c api` on loopback. N concurrent
# POST /v1/validate requests (a module with its pytest tests, run in the
# sandbox), throughput and p50/p95/p99, next to the same validations through
# the CLI (one `r2c validate` process each), measured in the same run.
#   C=4 N=40 bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-4}
N=${N:-40}
go build -o bin/r2c ./cmd/r2c
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/calc.py" <<'PY'
def add(a, b):
    return a + b
PY
cat >"$work/test_calc.py" <<'PY'
from calc import add


def test_add():
    assert add(2, 3) == 5


def test_neg():
    assert add(-2, -3) == -5
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export R2C_API_TOKEN=bench-$RANDOM$RANDOM
bin/r2c api --listen 127.0.0.1:$port --root "$work" --max-concurrent "$C" --queue $((N + C)) 2>"$work/api.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
go run ./bench/apiload -url "http://127.0.0.1:$port" -r2c "$PWD/bin/r2c" -root "$work" -module calc.py -c "$C" -n "$N"
