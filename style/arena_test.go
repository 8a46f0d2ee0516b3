package style

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// flattenCorpus is every kind of source the two walks must agree on: the
// golden project, a synthetic module, both broken by random edits (errors,
// missing nodes, runaway strings), hostile shapes, and the interpreter's
// standard library when python3 is installed.
func flattenCorpus(t *testing.T) [][]byte {
	t.Helper()
	ar := mustArchive(t, "testdata/golden/ml_project.txtar")
	base := [][]byte{syntheticModule(400, 3)}
	for _, f := range ar.Files {
		base = append(base, f.Data)
	}
	srcs := append([][]byte{}, base...)
	inserts := []string{"x", "(", ")", ":", "\"", "'''", "#", "\n", "    ", "def f(", "lambda", "é", "class C:\n", "\r", "\\", "@", "f\"{", "print "}
	rng := rand.New(rand.NewSource(5))
	for _, src := range base {
		for range 40 {
			s := src
			for k := rng.Intn(4); k >= 0; k-- {
				e := randomEdit(rng, s, inserts, 12)
				s = append(append(append([]byte{}, s[:e.StartByte]...), e.NewText...), s[e.OldEndByte:]...)
			}
			srcs = append(srcs, s)
		}
	}
	srcs = append(srcs,
		nil, []byte("\n"), []byte("# only a comment"), []byte("x = 1\r\ny = 2\rz = 3\n"),
		bytes.Repeat([]byte("("), 5000),
		[]byte(strings.Repeat("[", 3000)+strings.Repeat("]", 3000)),
		[]byte("if x:\n"+strings.Repeat("    ", 200)+"pass\n"),
		[]byte("def f(\n"+strings.Repeat("    a: int = (1 if b else c),\n", 500)+"):\n    return {**k, 'a': [*l]}\n"),
		[]byte("\tdef  f( ) :\n\t\treturn  '''\\\n'''\n    x = 1\n"),
	)
	if py, ok := findTestPython(); ok {
		_, files := stdlibFiles(t, py)
		for k, f := range files {
			if k%2 != 0 {
				continue // half of them: the two walks are compared, not the library
			}
			if src, err := os.ReadFile(f); err == nil {
				srcs = append(srcs, src)
			}
		}
	}
	return srcs
}

// cursorFlatten is the reference: a libc parse flattened by the public
// cursor walk, as Documents do.
func cursorFlatten(t *testing.T, src []byte) []node {
	t.Helper()
	p, err := newParser()
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tr, err := p.parse(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	return tr.flatten(nil)
}

// fastFlatten is the one-shot path: an arena parse (when a slot is free)
// flattened by the subtree walk.
func fastFlatten(t *testing.T, src []byte) []node {
	t.Helper()
	tr, err := parseOnce(src)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer tr.close()
	nodes, err := tr.flattenFast(nil)
	if err != nil {
		t.Error(err)
	}
	return nodes
}

func sameNodes(t *testing.T, what string, got, want []node) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s: node %d (%s) is %+v, the cursor walk's (%s) %+v", what, i, got[i].symbolName(), got[i], want[i].symbolName(), want[i])
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d nodes, the cursor walk %d", what, len(got), len(want))
	}
}

// TestFastFlattenMatchesCursorWalk checks the one-shot path (arena parse,
// subtree walk) against the libc parse and cursor walk, node for node, on
// the whole corpus; then again with the arena slots made so small that the
// parses overflow into libc, from several goroutines at once.
func TestFastFlattenMatchesCursorWalk(t *testing.T) {
	srcs := flattenCorpus(t)
	want := make([][]node, len(srcs))
	errors, kinds := 0, map[uint16]bool{}
	for i, src := range srcs {
		want[i] = cursorFlatten(t, src)
		sameNodes(t, "source "+strconv.Itoa(i), fastFlatten(t, src), want[i])
		for _, nd := range want[i] {
			kinds[uint16(nd.symbol)] = true
			if nd.isError() || nd.missing() {
				errors++
			}
		}
		if t.Failed() {
			t.Fatalf("source %d:\n%.2000s", i, srcs[i])
		}
	}
	if errors < 100 || len(kinds) < 100 {
		t.Fatalf("the corpus has %d error or missing nodes and %d node kinds: too narrow to compare the walks", errors, len(kinds))
	}

	setArenaLimit(64 << 10)
	defer setArenaLimit(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(srcs); i += 4 * 7 {
				got := fastFlatten(t, srcs[i])
				mu.Lock()
				sameNodes(t, "overflowing arena, source "+strconv.Itoa(i), got, want[i])
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestVendoredHeadersMatchTheRuntime checks that tsrt/ holds the linked
// tree-sitter runtime's own headers, byte for byte: tsfast.c reads the
// runtime's structs through them, so a version bump of go-tree-sitter
// that changed a layout must fail here, not corrupt memory.
func TestVendoredHeadersMatchTheRuntime(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to find the runtime's headers: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-m", "-f", "{{.Dir}}", "github.com/tree-sitter/go-tree-sitter").Output()
	if err != nil {
		t.Fatalf("go list go-tree-sitter: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	var n int
	err = filepath.WalkDir("tsrt", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("tsrt", path)
		mine, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		theirs, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("%s: not in the runtime (%v)", path, err)
			return nil
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs from %s: copy the runtime's version (and check tsfast.c against it)", path, filepath.Join(dir, rel))
		}
		n++
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("compared %d headers: %v", n, err)
	}
}

// TestNoArenasUnderAnAddressSpaceLimit runs itself in a child process
// whose address space is limited (ulimit -v) before its first parse: the
// arena range, 8 GiB of reservation, must not be mapped there (it would
// count against the limit and could starve the Go heap), and one-shot
// parses must still give the cursor walk's nodes.
func TestNoArenasUnderAnAddressSpaceLimit(t *testing.T) {
	if os.Getenv("R2C_ARENA_AS_CHILD") == "1" {
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_AS, &cur); err != nil {
			t.Fatal(err)
		}
		lim := syscall.Rlimit{Cur: 64 << 30, Max: cur.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			t.Skipf("cannot limit the address space: %v", err)
		}
		src := syntheticModule(300, 11)
		sameNodes(t, "under an address-space limit", fastFlatten(t, src), cursorFlatten(t, src))
		arenaSlots.Lock()
		free := len(arenaSlots.free)
		arenaSlots.Unlock()
		if free != 0 {
			t.Fatalf("%d arena slots reserved under an address-space limit", free)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoArenasUnderAnAddressSpaceLimit$", "-test.v")
	cmd.Env = append(os.Environ(), "R2C_ARENA_AS_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
