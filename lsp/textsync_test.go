package lsp_test

import (
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/style"
)

// Random incremental edits (seeded, with non-ASCII text) go through the
// pipe; after each, the server's diagnostics — from its incrementally
// re-parsed document — must equal a from-scratch check of the editor's own
// text by style.CheckSource.
func TestIncrementalEditsMatchAFullCheck(t *testing.T) {
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{InitializationOptions: map[string]any{
		"style":  map[string]any{"profile": ".r2c/none.json"},
		"server": map[string]any{"debounce": "0s"}, // no debouncing
	}})
	e.CreateBuffer("r.py", "def f(x):\n    return x  # é\n\n\nclass C:\n    y = '🎉'\n")
	rng := rand.New(rand.NewSource(7))
	snippets := []string{"(", ")", ":", "\n", "    ", "def g(", "é", "🎉", "return 1\n", "x = [", "]", "'", "数据", ""}
	for i := 0; i < 40; i++ {
		text := e.BufferText("r.py")
		lines := strings.Split(text, "\n")
		l1 := rng.Intn(len(lines))
		l2 := min(len(lines)-1, l1+rng.Intn(2))
		c1 := rng.Intn(len(utf16.Encode([]rune(lines[l1]))) + 1)
		c2 := rng.Intn(len(utf16.Encode([]rune(lines[l2]))) + 1)
		if l1 == l2 && c2 < c1 {
			c1, c2 = c2, c1
		}
		// Keep ranges off the inside of surrogate pairs: the editor never sends those.
		c1, c2 = runeBoundary(lines[l1], c1), runeBoundary(lines[l2], c2)
		rng1 := protocol.Range{Start: protocol.Position{Line: uint32(l1), Character: uint32(c1)}, End: protocol.Position{Line: uint32(l2), Character: uint32(c2)}}
		e.EditBuffer("r.py", lsptest.Edit{Range: rng1, Text: snippets[rng.Intn(len(snippets))]})

		want, err := style.CheckSource(nil, "r.py", []byte(e.BufferText("r.py")))
		if err != nil {
			t.Fatal(err)
		}
		got := e.AwaitDiagnostics("r.py", "the check of this version", func([]protocol.Diagnostic) bool { return true })
		if g, w := summarize(got), summarizeStyle(want.Diagnostics); !slices.Equal(g, w) {
			t.Fatalf("edit %d: server %v, full check %v\ntext:\n%s", i, g, w, e.BufferText("r.py"))
		}
	}
}

// runeBoundary moves a UTF-16 column off the second half of a surrogate pair.
func runeBoundary(line string, col int) int {
	units := utf16.Encode([]rune(line))
	if col > 0 && col < len(units) && utf16.IsSurrogate(rune(units[col])) && units[col] >= 0xDC00 {
		return col - 1
	}
	return col
}

func summarize(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		msg, _ := d.Message.(protocol.String)
		out = append(out, diagCode(d)+"@"+strconv.Itoa(int(d.Range.Start.Line))+":"+string(msg))
	}
	slices.Sort(out)
	return out
}

func summarizeStyle(ds []style.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Rule+"@"+strconv.Itoa(d.Range.Start.Line)+":"+strings.TrimSpace(d.Message))
	}
	slices.Sort(out)
	return out
}
