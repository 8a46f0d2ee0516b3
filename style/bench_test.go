package style

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var sink any

// cpuTimer reports the process CPU time per operation next to wall time:
// on a shared machine wall time measures the neighbours too.
type cpuTimer struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) cpuTimer {
	b.ResetTimer()
	return cpuTimer{processCPU()}
}

func (c cpuTimer) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N)/1e6, "cpu-ms/op")
}

// syntheticModule generates about n lines of realistic Python (imports,
// dataclasses, classes with methods, functions with Google docstrings,
// loops, comprehensions, f-strings, try/except) from a seeded RNG.
func syntheticModule(n int, seed int64) []byte {
	rng := rand.New(rand.NewSource(seed))
	nouns := []string{"batch", "layer", "weight", "token", "score", "loss", "grad", "state", "head", "mask", "step", "epoch"}
	verbs := []string{"compute", "load", "apply", "update", "build", "split", "merge", "scale", "encode", "decode"}
	name := func() string { return verbs[rng.Intn(len(verbs))] + "_" + nouns[rng.Intn(len(nouns))] }
	var b bytes.Buffer
	b.WriteString("\"\"\"Synthetic module for benchmarks.\"\"\"\n\nimport logging\nimport math\nfrom dataclasses import dataclass\n\nimport numpy as np\n\nlogger = logging.getLogger(__name__)\n\nMAX_STEPS = 1000\n\n")
	for k := 0; bytes.Count(b.Bytes(), []byte{'\n'}) < n; k++ {
		switch rng.Intn(3) {
		case 0:
			fmt.Fprintf(&b, "\n@dataclass\nclass Config%d:\n    \"\"\"Settings of part %d.\"\"\"\n\n    size: int = %d\n    rate: float = %d.5\n", k, k, rng.Intn(100), rng.Intn(10))
		case 1:
			fmt.Fprintf(&b, "\nclass Model%d:\n    \"\"\"A model.\"\"\"\n\n    def __init__(self, size: int) -> None:\n        self.size = size\n        self.values = [0.0] * size\n\n", k)
			for m := 0; m < 3; m++ {
				fmt.Fprintf(&b, "    def %s_%d(self, factor: float) -> list[float]:\n        \"\"\"Scale the values.\n\n        Args:\n            factor: The factor.\n\n        Returns:\n            The scaled values.\n        \"\"\"\n        if factor == 0:\n            return []\n        return [value * factor for value in self.values]\n\n", name(), m)
			}
		default:
			fmt.Fprintf(&b, "\ndef %s_%d(items: list[int], limit: int = 10) -> dict[str, int]:\n    \"\"\"Summarise items.\n\n    Args:\n        items: The items.\n        limit: At most this many.\n\n    Returns:\n        Counts by key.\n    \"\"\"\n    counts: dict[str, int] = {}\n    for index, item in enumerate(items[:limit]):\n        key = f\"item-{item %% 7}\"\n        counts[key] = counts.get(key, 0) + 1\n        if index > MAX_STEPS:\n            break\n    try:\n        total = math.fsum(counts.values())\n    except (TypeError, ValueError) as error:\n        logger.warning(f\"cannot sum: {error}\")\n        total = 0\n    logger.debug(\"total %%s\", total)\n    return {k: v for k, v in counts.items() if v > 1}\n", name(), k)
		}
	}
	return b.Bytes()
}

func TestSyntheticModuleIsValidPython(t *testing.T) {
	python := pythonForTests(t)
	src := syntheticModule(2000, 1)
	cmd := exec.Command(python, "-c", "import ast, sys; ast.parse(sys.stdin.read())")
	cmd.Stdin = bytes.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the benchmark input is not valid Python: %s", out)
	}
	if r, _ := CheckSource(nil, "", src); len(r.Diagnostics) != 0 {
		t.Fatalf("diagnostics on valid input: %+v", r.Diagnostics[0])
	}
}

// BenchmarkCheck2000Lines: parse and fully analyse a 2,000-line file and
// score it against a profile (target: under 15 ms).
func BenchmarkCheck2000Lines(b *testing.B) {
	p := learnFixture(b)
	src := syntheticModule(2000, 1)
	b.SetBytes(int64(len(src)))
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		r, err := CheckSource(p, "bench.py", src)
		if err != nil {
			b.Fatal(err)
		}
		sink = r
	}
	cpu.report(b)
}

// BenchmarkIncrementalEdit: one character typed into a 2,000-line open
// document, incremental re-parse and full re-check (target: under 5 ms).
func BenchmarkIncrementalEdit(b *testing.B) {
	p := learnFixture(b)
	src := syntheticModule(2000, 1)
	doc, err := NewDocument(src)
	if err != nil {
		b.Fatal(err)
	}
	defer doc.Close()
	at := bytes.Index(src, []byte("counts.get(key")) + len("counts.get(ke")
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		// Alternately type and delete one character inside an identifier.
		e := Edit{StartByte: at, OldEndByte: at, NewText: []byte("y")}
		if i%2 == 1 {
			e = Edit{StartByte: at, OldEndByte: at + 1}
		}
		if err := doc.Apply(e); err != nil {
			b.Fatal(err)
		}
		sink = doc.Check(p)
	}
	cpu.report(b)
}

// benchFiles reads the file list bench/style.sh prepares (the stdlib files
// CPython parses), or lists the stdlib itself.
func benchFiles(b *testing.B) ([][]byte, int64) {
	var paths []string
	if list := os.Getenv("R2C_BENCH_FILES"); list != "" {
		raw, err := os.ReadFile(list)
		if err != nil {
			b.Fatal(err)
		}
		paths = strings.Fields(string(raw))
	} else {
		_, paths = stdlibFiles(b, pythonForTests(b))
	}
	var srcs [][]byte
	var total int64
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil || checkInput(src) != nil {
			continue
		}
		srcs = append(srcs, src)
		total += int64(len(src))
	}
	return srcs, total
}

// BenchmarkStdlib: Stats (parse + the full style analysis) over every file
// of the Python standard library, one file after another. bench/style.sh
// compares it with CPython's ast.parse + ast.walk on the same files.
func BenchmarkStdlib(b *testing.B) {
	srcs, total := benchFiles(b)
	b.SetBytes(total)
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		for _, src := range srcs {
			st, _ := Stats(src)
			sink = st
		}
	}
	cpu.report(b)
}

// BenchmarkStdlibParallel is BenchmarkStdlib through StatsEach, one worker
// per CPU with results in file order, as `r2c style stats` runs.
func BenchmarkStdlibParallel(b *testing.B) {
	srcs, total := benchFiles(b)
	b.SetBytes(total)
	read := func(i int) ([]byte, error) { return srcs[i], nil }
	emit := func(_ int, st *FileStats, _ error) error { sink = st; return nil }
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if err := StatsEach(context.Background(), len(srcs), nil, read, emit); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(srcs))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkKeystroke: what typing costs in an open 2,000-line document, the
// editor's case: a letter inserted at a random column of a random non-blank
// line (inside a name, a keyword, a string, the indentation), re-parsed,
// re-flattened, analysed and scored, then deleted again. It reports the
// medians of each phase of the insertion, so a change to one of them shows
// in benchstat.
func BenchmarkKeystroke(b *testing.B) {
	rng := rand.New(rand.NewSource(3))
	var sb strings.Builder
	words := []string{"load", "scale", "attention", "query", "key", "value", "mask", "norm", "layer", "head"}
	for lines := 0; lines < 2000; lines += 6 {
		a, c := words[rng.Intn(len(words))], words[rng.Intn(len(words))]
		name := a + "_" + c
		if rng.Intn(8) == 0 {
			name = a + strings.ToUpper(c[:1]) + c[1:]
		}
		fmt.Fprintf(&sb, "def %s(x, y):\n    \"\"\"Compute %s.\"\"\"\n    total = x * %d + y\n    return total\n\n\n", name, a, rng.Intn(100))
	}
	src := []byte(sb.String())
	p := learnFixture(b)
	doc, err := NewDocument(src)
	if err != nil {
		b.Fatal(err)
	}
	defer doc.Close()
	doc.Check(p)
	var starts []int // offset and length of each non-blank line
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		if end > 0 {
			starts = append(starts, off, end)
		}
		off += end + 1
	}
	phases := [4][]time.Duration{}
	var reparsed []time.Duration // parse and flatten of the keystrokes tree-sitter re-parsed
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := rng.Intn(len(starts) / 2)
		at := starts[2*k] + rng.Intn(starts[2*k+1]+1)
		before := doc.windowEdits
		t0 := time.Now()
		if err := doc.Apply(Edit{StartByte: at, OldEndByte: at, NewText: []byte{byte('a' + rng.Intn(26))}}); err != nil {
			b.Fatal(err)
		}
		windowed := doc.windowEdits > before
		t1 := time.Now()
		nodes := doc.nodes()
		t2 := time.Now()
		if !windowed {
			reparsed = append(reparsed, t2.Sub(t0))
		}
		a := analyzeRecovering(nodes, doc.parsed, &doc.tails, doc.obs)
		t3 := time.Now()
		sink = check(p, "", doc.parsed, a)
		doc.obs = a.obs[:0]
		t4 := time.Now()
		for j, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)} {
			phases[j] = append(phases[j], d)
		}
		if err := doc.Apply(Edit{StartByte: at, OldEndByte: at + 1}); err != nil {
			b.Fatal(err)
		}
		doc.Check(p)
	}
	b.StopTimer()
	b.ReportMetric(float64(doc.windowEdits)/float64(doc.edits), "windowed/edit")
	if len(reparsed) > 0 {
		slices.Sort(reparsed)
		b.ReportMetric(float64(reparsed[len(reparsed)/2].Microseconds())/1000, "reparse-ms")
	}
	for j, unit := range []string{"parse-ms", "flatten-ms", "analyze-ms", "score-ms"} {
		slices.Sort(phases[j])
		b.ReportMetric(float64(phases[j][len(phases[j])/2].Microseconds())/1000, unit)
	}
}
