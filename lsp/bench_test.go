package lsp_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
)

// pythonSource generates n lines of plausible Python (seeded): functions in
// snake_case, and with camel set one in eight in camelCase, so a profile
// learned from camel=false code has findings in camel=true code.
func pythonSource(rng *rand.Rand, n int, camel bool) string {
	var b strings.Builder
	words := []string{"load", "scale", "attention", "query", "key", "value", "mask", "norm", "layer", "head"}
	for lines := 0; lines < n; {
		a, c := words[rng.Intn(len(words))], words[rng.Intn(len(words))]
		name := a + "_" + c
		if camel && rng.Intn(8) == 0 {
			name = a + strings.ToUpper(c[:1]) + c[1:]
		}
		fmt.Fprintf(&b, "def %s(x, y):\n    \"\"\"Compute %s.\"\"\"\n    total = x * %d + y\n    return total\n\n\n", name, a, rng.Intn(100))
		lines += 6
	}
	return b.String()
}

// p50 reports the median of ds in milliseconds as a benchmark metric.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)*9/10].Microseconds())/1000, "p90-ms")
}

func benchEditor(b *testing.B, src string) *lsptest.Editor {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	files := map[string]string{}
	for i := 0; i < 4; i++ {
		files[fmt.Sprintf("lib/m%d.py", i)] = pythonSource(rng, 300, false)
	}
	e := lsptest.New(b, serve(lsp.Options{}), lsptest.Config{Files: files, InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/style.json", "min_evidence": 2},
		"server": map[string]any{"debounce": "0s"}, // no debouncing
	}})
	if err := e.ExecuteCommand(context.Background(), protocol.Command{Command: lsp.CommandLearnStyle}, nil); err != nil {
		b.Fatal(err)
	}
	e.CreateBuffer("bench.py", src)
	e.AwaitDiagnostics("bench.py", "style findings", func(ds []protocol.Diagnostic) bool { return len(ds) > 0 })
	return e
}

var sinkActions []protocol.CodeAction

// BenchmarkCodeAction measures textDocument/codeAction round trips through
// the JSON-RPC pipe on a 2,000-line file with style findings (target: p50 < 5 ms).
func BenchmarkCodeAction(b *testing.B) {
	rng := rand.New(rand.NewSource(2))
	e := benchEditor(b, pythonSource(rng, 2000, true))
	lines := strings.Count(e.BufferText("bench.py"), "\n")
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pos := protocol.Position{Line: uint32(rng.Intn(lines))}
		start := time.Now()
		sinkActions = e.CodeActions("bench.py", protocol.Range{Start: pos, End: pos})
		ds = append(ds, time.Since(start))
		if len(sinkActions) == 0 {
			b.Fatal("no code actions: the benchmark would measure nothing")
		}
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}

// BenchmarkDiagnosticsAfterEdit measures, end to end through the pipe, the
// time from sending a keystroke in a 2,000-line file to receiving the
// diagnostics for that version (no debounce; target: p50 < 3 ms). The
// keystroke is what typing is: a letter inserted at a random column of a
// random non-blank line (inside a name, a string, the indentation, ...),
// then deleted.
func BenchmarkDiagnosticsAfterEdit(b *testing.B) {
	benchmarkDiagnosticsAfter(b, func(rng *rand.Rand, line string) (uint32, string) {
		return uint32(rng.Intn(len(line) + 1)), string(rune('a' + rng.Intn(26)))
	})
}

// BenchmarkDiagnosticsAfterIndentEdit is the keystroke tree-sitter handles
// worst: a space at column 0, which breaks the indentation of the line's
// block. Its error recovery then re-parses from the edit to the end of the
// file, so the time grows with what follows the edit.
func BenchmarkDiagnosticsAfterIndentEdit(b *testing.B) {
	benchmarkDiagnosticsAfter(b, func(*rand.Rand, string) (uint32, string) { return 0, " " })
}

// benchmarkDiagnosticsAfter types the character keystroke picks on a random
// non-blank line of a 2,000-line file, waits for the diagnostics of that
// version, and undoes it, reporting the p50 and p90 of the first wait.
func benchmarkDiagnosticsAfter(b *testing.B, keystroke func(rng *rand.Rand, line string) (col uint32, text string)) {
	rng := rand.New(rand.NewSource(3))
	e := benchEditor(b, pythonSource(rng, 2000, true))
	var lines []uint32
	text := strings.Split(e.BufferText("bench.py"), "\n")
	for i, l := range text {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, uint32(i))
		}
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		line := lines[rng.Intn(len(lines))]
		col, ch := keystroke(rng, text[line])
		pos := protocol.Position{Line: line, Character: col}
		start := time.Now()
		e.EditBuffer("bench.py", lsptest.Edit{Range: protocol.Range{Start: pos, End: pos}, Text: ch})
		e.AwaitDiagnostics("bench.py", "diagnostics of the edit", func([]protocol.Diagnostic) bool { return true })
		ds = append(ds, time.Since(start))
		e.EditBuffer("bench.py", lsptest.Edit{Range: protocol.Range{Start: pos, End: protocol.Position{Line: pos.Line, Character: col + 1}}, Text: ""})
		e.AwaitDiagnostics("bench.py", "diagnostics of the undo", func([]protocol.Diagnostic) bool { return true })
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}
