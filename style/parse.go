package style

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	sitter "github.com/tree-sitter/go-tree-sitter"
	python "github.com/tree-sitter/tree-sitter-python/bindings/go"
)

// MaxSourceSize is the largest file analysed. Bigger "Python" files are
// almost always generated data; refusing them keeps an editor responsive.
const MaxSourceSize = 8 << 20

// ErrBinary is returned for input that contains NUL bytes (CPython refuses
// it too: "source code string cannot contain null bytes").
var ErrBinary = errors.New("not Python source: the file contains NUL bytes (binary?)")

// ErrTooLarge is returned for input larger than MaxSourceSize.
var ErrTooLarge = fmt.Errorf("file larger than the %d MiB limit for Python sources", MaxSourceSize>>20)

var pythonLanguage = sitter.NewLanguage(python.Language())

// checkInput rejects what is not Python source at all. Invalid UTF-8 is not
// rejected here: it becomes an "encoding" diagnostic so the rest of the file
// is still analysed.
func checkInput(src []byte) error {
	if len(src) > MaxSourceSize {
		return fmt.Errorf("%w (%.1f MiB)", ErrTooLarge, float64(len(src))/(1<<20))
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return fmt.Errorf("%w at byte %d", ErrBinary, i)
	}
	return nil
}

// readSource reads a file for analysis, refusing huge ones before reading.
func readSource(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxSourceSize {
		return nil, fmt.Errorf("%s: %w (%.1f MiB)", path, ErrTooLarge, float64(fi.Size())/(1<<20))
	}
	return os.ReadFile(path)
}

func newParser() *sitter.Parser {
	p := sitter.NewParser()
	// SetLanguage only fails on an ABI mismatch between the grammar and the
	// runtime, which the pinned versions in go.mod rule out.
	if err := p.SetLanguage(pythonLanguage); err != nil {
		panic(fmt.Sprintf("style: tree-sitter-python does not match the tree-sitter runtime: %v", err))
	}
	return p
}

// parse runs tree-sitter, turning a panic in the cgo binding into an error.
func parse(p *sitter.Parser, src []byte, old *sitter.Tree) (tree *sitter.Tree, err error) {
	defer func() {
		if r := recover(); r != nil {
			tree, err = nil, fmt.Errorf("tree-sitter panicked: %v", r)
		}
	}()
	tree = p.Parse(src, old)
	if tree == nil {
		return nil, errors.New("tree-sitter returned no tree")
	}
	return tree, nil
}

// firstInvalidUTF8 returns the offset of the first byte that is not valid
// UTF-8, or -1.
func firstInvalidUTF8(src []byte) int {
	if utf8.Valid(src) {
		return -1
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
