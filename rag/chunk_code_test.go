package rag

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// astDefs lists a file's top-level functions and classes and the methods
// of its classes as CPython's ast module sees them: first line (decorators
// included) and last line, 1-based.
type astDef struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

const astDefsScript = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
def span(n):
    return min([n.lineno] + [d.lineno for d in n.decorator_list]), n.end_lineno
out = []
for n in tree.body:
    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
        s, e = span(n); out.append(dict(kind="function", name=n.name, parent="", start=s, end=e))
    elif isinstance(n, ast.ClassDef):
        s, e = span(n); out.append(dict(kind="class", name=n.name, parent="", start=s, end=e))
        for m in n.body:
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                s, e = span(m); out.append(dict(kind="method", name=m.name, parent=n.name, start=s, end=e))
json.dump(out, sys.stdout)
`

func astDefs(t *testing.T, path string) []astDef {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: no ast oracle")
	}
	out, err := exec.Command(py, "-c", astDefsScript, path).Output()
	if err != nil {
		t.Fatalf("python3 ast: %v", err)
	}
	var defs []astDef
	if err := json.Unmarshal(out, &defs); err != nil {
		t.Fatal(err)
	}
	return defs
}

// bigClassSource is a class larger than maxCodeChunkBytes, which must be
// split into its methods.
func bigClassSource() string {
	var b strings.Builder
	b.WriteString("import torch\n\n\nclass Trainer:\n    \"\"\"Runs the training loop.\"\"\"\n\n    epochs = 3\n")
	for i := range 30 {
		fmt.Fprintf(&b, "\n    @torch.no_grad()\n    def step_%d(self, batch):\n        \"\"\"Step %d of the schedule, with enough body to be long.\"\"\"\n", i, i)
		for j := range 4 {
			fmt.Fprintf(&b, "        value_%d = batch[%d] * self.scale + self.offset_%d  # keep the line long\n", j, j, i)
		}
		b.WriteString("        return value_0\n")
	}
	b.WriteString("\n\ndef main():\n    Trainer().step_0([1, 2, 3, 4])\n")
	return b.String()
}

func TestChunkCodeMatchesPythonAST(t *testing.T) {
	big := filepath.Join(t.TempDir(), "trainer.py")
	if err := os.WriteFile(big, []byte(bigClassSource()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join("testdata", "code", "layers.py"), big} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			syms, err := parseSymbols(src)
			if err != nil {
				t.Fatal(err)
			}
			chunks := chunkCode(src, syms, "repo", filepath.Base(path))
			defs := astDefs(t, path)

			type span struct{ start, end int }
			bySymbol := map[string]span{}
			covered := map[int]int{} // line → chunks holding it
			for _, c := range chunks {
				s, _ := strconv.Atoi(c.md["start_line"])
				e, _ := strconv.Atoi(c.md["end_line"])
				if c.md["symbol"] != "" {
					bySymbol[c.md["kind"]+" "+c.md["symbol"]] = span{s, e}
				}
				for l := s; l <= e; l++ {
					covered[l]++
				}
				if len(c.text) > maxCodeChunkBytes {
					t.Errorf("chunk %s is %d bytes", c.md["symbol"], len(c.text))
				}
			}
			lines := strings.SplitAfter(string(src), "\n")
			bigClass := map[string]bool{} // classes too big for one chunk
			for _, d := range defs {
				if d.Kind == "class" {
					bigClass[d.Name] = len(strings.Join(lines[d.Start-1:d.End], "")) > maxCodeChunkBytes
				}
			}
			for _, d := range defs {
				var key string
				switch {
				case d.Kind == "method" && bigClass[d.Parent]:
					key = "method " + d.Parent + "." + d.Name
				case d.Kind == "method":
					continue // inside its class's chunk
				default:
					key = d.Kind + " " + d.Name
				}
				got, ok := bySymbol[key]
				if !ok {
					t.Errorf("no chunk for %s; have %v", key, bySymbol)
					continue
				}
				wantEnd := d.End
				if d.Kind == "class" && bigClass[d.Name] {
					wantEnd = got.end // the header ends where the first method begins
				}
				if got.start != d.Start || got.end != wantEnd {
					t.Errorf("%s: chunk lines %d-%d, ast says %d-%d", key, got.start, got.end, d.Start, wantEnd)
				}
			}
			if filepath.Base(path) == "trainer.py" && !bigClass["Trainer"] {
				t.Fatal("the generated Trainer class is not bigger than a chunk")
			}
			// Chunks start and end on lines with code.
			for _, c := range chunks {
				s, _ := strconv.Atoi(c.md["start_line"])
				e, _ := strconv.Atoi(c.md["end_line"])
				if strings.TrimSpace(lines[s-1]) == "" || strings.TrimSpace(lines[e-1]) == "" {
					t.Errorf("chunk %s lines %d-%d start or end on a blank line", c.md["kind"], s, e)
				}
			}
			// Every non-blank line is in exactly one chunk.
			for i, line := range lines {
				n := covered[i+1]
				if strings.TrimSpace(line) != "" && n != 1 {
					t.Errorf("line %d %q is in %d chunks", i+1, line, n)
				}
			}
		})
	}
}

// TestChunkCodeSyntaxErrorStillIndexed: a file tree-sitter cannot fully
// parse is still indexed whole, in pieces no bigger than a chunk.
func TestChunkCodeSyntaxErrorStillIndexed(t *testing.T) {
	src := []byte("def broken(:\n    pass\n" + strings.Repeat("x = 1  # filler line for the window\n", 400))
	chunks, err := codeChunks(src, "repo", "broken.py")
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("%d chunks for a %d-byte file", len(chunks), len(src))
	}
	var joined strings.Builder
	for _, c := range chunks {
		joined.WriteString(c.text + "\n")
		if len(c.text) > maxCodeChunkBytes {
			t.Fatalf("chunk of %d bytes", len(c.text))
		}
	}
	if joined.String() != string(src) {
		t.Fatal("line windows do not reassemble the file")
	}
}

// TestBigClassKeepsCodeBetweenMethods: class attributes defined between
// or after the methods of a class too big for one chunk are indexed (they
// were in no chunk; FuzzChunkCode found it).
func TestBigClassKeepsCodeBetweenMethods(t *testing.T) {
	method := func(name string) string {
		return "    def " + name + "(self, x):\n" + strings.Repeat("        x = x * 2 + 1  # a long enough body line\n", 60) + "        return x\n\n"
	}
	src := "class Big:\n    \"\"\"Doc.\"\"\"\n\n" + method("first") + "    LIMIT_BETWEEN = 7\n\n" + method("second") + "    TAIL_AFTER = 1\n"
	chunks := chunkCode([]byte(src), mustSymbols(t, src), "r", "big.py")
	for _, want := range []string{"LIMIT_BETWEEN = 7", "TAIL_AFTER = 1", "def first", "def second", `"""Doc."""`} {
		found := false
		for _, c := range chunks {
			if strings.Contains(c.text, want) {
				found = true
				if strings.HasPrefix(want, "def") != (c.md["kind"] == "method") {
					t.Errorf("%q in a %s chunk", want, c.md["kind"])
				}
			}
		}
		if !found {
			t.Errorf("%q is in no chunk", want)
		}
	}
}

func mustSymbols(t *testing.T, src string) []codeSymbol {
	t.Helper()
	syms, err := safeSymbols([]byte(src))
	if err != nil || syms == nil {
		t.Fatalf("symbols: %v", err)
	}
	return syms
}
