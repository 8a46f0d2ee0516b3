package validate

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/sourcegraph/conc/pool"

	"github.com/r2c-ai/r2c/style"
)

// checkStyle runs the style engine over every module concurrently: syntax
// and encoding diagnostics always, profile diagnostics and the score when a
// profile is given. The score is the mean over the modules.
func checkStyle(ctx context.Context, opts Options) ([]Diagnostic, float64, error) {
	var (
		mu     sync.Mutex
		diags  []Diagnostic
		scores []float64
	)
	p := pool.New().WithContext(ctx).WithMaxGoroutines(4)
	for _, m := range opts.Modules {
		src := opts.Files[m]
		p.Go(func(ctx context.Context) error {
			rep, err := checkSource(opts.Profile, m, src)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			scores = append(scores, rep.Score)
			for _, d := range rep.Diagnostics {
				src := SourceStyle
				if d.Rule == style.RuleSyntaxError || d.Rule == style.RuleEncoding {
					src = SourceSyntax
				}
				diags = append(diags, Diagnostic{Path: m, Source: src, Code: d.Rule, Severity: d.Severity, Range: d.Range, Message: d.Message, Fix: d.Fix})
			}
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return nil, 0, fmt.Errorf("validate: %w", err)
	}
	score := 100.0
	if opts.Profile != nil && len(scores) > 0 {
		score = 0
		for _, s := range scores {
			score += s
		}
		score /= float64(len(scores))
	}
	return diags, score, nil
}

// checkSource calls the style engine, turning a panic in the parser into an
// error so one bad file cannot take down a language server.
func checkSource(p *style.Profile, path string, src []byte) (rep *style.Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = nil, fmt.Errorf("style check of %s panicked: %v", path, v)
		}
	}()
	return style.CheckSource(p, path, src)
}

func sortDiagnostics(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Range.Start.Line != b.Range.Start.Line {
			return a.Range.Start.Line < b.Range.Start.Line
		}
		if a.Range.Start.Column != b.Range.Start.Column {
			return a.Range.Start.Column < b.Range.Start.Column
		}
		return a.Source < b.Source
	})
}
