package style

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// FileStats are raw counts defined exactly as Python's ast module defines
// them (see testdata/aststats.py, which computes the same with CPython):
//
//   - Functions: FunctionDef + AsyncFunctionDef
//   - Classes: ClassDef
//   - Comprehensions: ListComp + SetComp + DictComp + GeneratorExp
//   - Lambdas: Lambda
//   - FStrings: JoinedStr nodes that are not the format_spec of a FormattedValue
//   - Docstrings: Module, ClassDef and function nodes whose first statement
//     is an expression that is a str constant
//   - Args: ast.arg of function definitions (not lambdas), all kinds
//   - AnnotatedArgs: those with an annotation
//   - AnnotatedReturns: function definitions with a return annotation
//   - Imports: Import + ImportFrom
//   - TryBlocks: Try + TryStar
//   - BareExcepts: ExceptHandler without a type
//   - Loops: For + AsyncFor + While
//   - Withs: With + AsyncWith
//   - Decorators: entries of decorator_list
//   - FunctionNames, ClassNames: names in source order
type FileStats struct {
	Path             string   `json:"path,omitempty"`
	Functions        int      `json:"functions"`
	Classes          int      `json:"classes"`
	Comprehensions   int      `json:"comprehensions"`
	Lambdas          int      `json:"lambdas"`
	FStrings         int      `json:"fstrings"`
	Docstrings       int      `json:"docstrings"`
	Args             int      `json:"args"`
	AnnotatedArgs    int      `json:"annotated_args"`
	AnnotatedReturns int      `json:"annotated_returns"`
	Imports          int      `json:"imports"`
	TryBlocks        int      `json:"try_blocks"`
	BareExcepts      int      `json:"bare_excepts"`
	Loops            int      `json:"loops"`
	Withs            int      `json:"withs"`
	Decorators       int      `json:"decorators"`
	FunctionNames    []string `json:"function_names"`
	ClassNames       []string `json:"class_names"`
	// SyntaxErrors counts the error and missing nodes tree-sitter recovered
	// from; Python's ast would reject such a file, so counts are then only
	// an approximation.
	SyntaxErrors int `json:"syntax_errors,omitempty"`
}

// Stats computes the ast-defined counts of a Python file. It fails only for
// input that is not Python source (binary, too large); syntax errors are
// counted in SyntaxErrors.
func Stats(src []byte) (*FileStats, error) {
	if err := checkInput(src); err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	var st FileStats
	obs := statsObsPool.Get().(*[]observation)
	err := withAnalysisInto(src, *obs, func(a *analysis) {
		st = a.stats
		*obs = a.obs[:0]
	})
	statsObsPool.Put(obs)
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	return &st, nil
}

// statsObsPool holds observation storage for Stats, which keeps only the
// counts: a batch of files would otherwise allocate a fresh slice of
// thousands of observations per file, most of the Go heap a batch makes
// (and the collections that go with it).
var statsObsPool = sync.Pool{New: func() any { return new([]observation) }}

// statsWindow is how many consecutive files StatsEach reorders by size.
const statsWindow = 256

// StatsEach computes Stats for n files on one worker per CPU and hands each
// result to emit in file order, as soon as it and those before it are
// done. read(i) returns the i-th file's source; its error, or Stats' error,
// is passed to emit. An error from emit stops the work and is returned; so
// is the context's error when it is cancelled.
// Files are parsed in parallel because one file's parse is tree-sitter's
// sequential work: the cores a machine has are the lever for many files.
//
// size(i), when size is not nil, estimates the i-th file's work (its length
// in bytes): files are then started largest first (among the next 256), so
// that a big file met last does not leave the other cores idle while it
// alone is parsed. Results are still emitted in file order.
func StatsEach(ctx context.Context, n int, size func(i int) int64, read func(i int) ([]byte, error), emit func(i int, st *FileStats, err error) error) error {
	type result struct {
		st  *FileStats
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	results := make([]result, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				src, err := read(i)
				if err == nil {
					results[i].st, err = Stats(src)
				}
				results[i].err = err
				close(done[i])
			}
		}()
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if size != nil {
		sizes := make([]int64, n)
		for i := range sizes {
			sizes[i] = size(i)
		}
		// Largest first within windows of statsWindow files, not over all
		// of them: results are emitted in file order, so a window bounds
		// how many finished results wait for an earlier file, and output
		// keeps streaming on a large tree.
		for w := 0; w < n; w += statsWindow {
			slices.SortStableFunc(order[w:min(w+statsWindow, n)], func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
		}
	}
	go func() {
		defer close(jobs)
		for _, i := range order {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel() // stops the feeder, so the workers' range ends
		wg.Wait()
	}()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-done[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := emit(i, results[i].st, results[i].err); err != nil {
			return err
		}
		results[i] = result{} // emitted: let the collector have it
	}
	return nil
}
