# r2c developer tasks. `make test` is the README's test command and what CI runs.
GO       ?= go
PKGS     ?= ./...
BIN      ?= bin/r2c
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build install test test-short bench lint fuzz clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/r2c

install:
	$(GO) install -ldflags "-X main.version=$(VERSION)" ./cmd/r2c

# The whole suite, race detector on. Integration tests that need a tool the
# machine lacks (bwrap, nvim, pdflatex) skip with the reason printed.
test:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Go benchmarks, then the bench/ scripts that print ratios against the
# reference tools (CPython's ast, plain pytest, pdftotext, ...).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	./bench/run

lint:
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
