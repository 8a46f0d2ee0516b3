package style

import (
	sitter "github.com/tree-sitter/go-tree-sitter"
)

// observation is one style fact: dimension dim took value at rng. name is
// the identifier involved, for naming rules.
type observation struct {
	dim, value string
	rng        Range
	name       string
}

// analysis is everything extracted from one parse.
type analysis struct {
	obs     []observation
	diags   []Diagnostic
	stats   FileStats
	symbols []Symbol
	lines   int
}

// analyzeSource parses src and analyses it.
func analyzeSource(src []byte) (*analysis, error) {
	if err := checkInput(src); err != nil {
		return nil, err
	}
	p := newParser()
	defer p.Close()
	tree, err := parse(p, src, nil)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	return analyzeTree(tree, src), nil
}

// analyzeTree extracts observations, stats, symbols and syntax diagnostics.
func analyzeTree(tree *sitter.Tree, src []byte) *analysis {
	return &analysis{stats: FileStats{FunctionNames: []string{}, ClassNames: []string{}}}
}
