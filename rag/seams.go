package rag

import (
	"context"
	"strings"

	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/style"
)

// loadPaper reads a paper file into the chunker's view of it; parseSymbols
// finds the definitions of a Python file. They are variables, the seams
// between this package and the paper and style packages; nil means the
// support is missing.
var (
	loadPaper    func(ctx context.Context, path string, content []byte) (*paperDoc, error) = loadPaperWithPaper
	parseSymbols func(src []byte) ([]codeSymbol, error)                                    = symbolsWithStyle
)

// symbolsWithStyle finds definitions with the style engine's tree-sitter
// parse.
func symbolsWithStyle(src []byte) ([]codeSymbol, error) {
	syms, err := style.Symbols(src)
	if err != nil {
		return nil, err
	}
	out := make([]codeSymbol, len(syms))
	for i, s := range syms {
		out[i] = codeSymbol{Kind: s.Kind, Name: s.Name, Parent: s.Parent, StartLine: s.StartLine, EndLine: s.EndLine, StartByte: s.StartByte, EndByte: s.EndByte}
	}
	return out, nil
}

// loadPaperWithPaper parses content (already read for hashing, so what is
// indexed is exactly what was hashed) with the paper package.
func loadPaperWithPaper(ctx context.Context, path string, content []byte) (*paperDoc, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := paper.Parse(path, content, paper.Options{})
	if err != nil {
		return nil, err
	}
	return fromPaper(p), nil
}

// fromPaper flattens a paper's section tree in reading order.
func fromPaper(p *paper.Paper) *paperDoc {
	doc := &paperDoc{Title: p.Title, Abstract: p.Abstract}
	p.Walk(func(s *paper.Section) {
		ps := paperSection{Number: s.Number, Title: s.Title, Page: s.Page, Text: s.Text}
		tableCaptions := map[string]bool{}
		for _, t := range s.Tables {
			tableCaptions[strings.TrimSpace(t.Caption)] = true
			var rows []string
			for _, r := range t.Rows {
				rows = append(rows, strings.Join(r, " | "))
			}
			ps.Blocks = append(ps.Blocks, paperBlock{Kind: "table", Label: t.Caption, Text: strings.Join(rows, "\n"), Page: t.Page})
		}
		for _, e := range s.Equations {
			ps.Blocks = append(ps.Blocks, paperBlock{Kind: "equation", Label: e.Number, Text: e.Text, Page: e.Page})
		}
		for _, a := range s.Algorithms {
			ps.Blocks = append(ps.Blocks, paperBlock{Kind: "algorithm", Label: a.Title, Text: a.Text, Page: a.Page})
		}
		// Figure captions read as prose about the section; table captions
		// already travel with their tables.
		for _, c := range s.Captions {
			if !tableCaptions[strings.TrimSpace(c)] {
				ps.Text += "\n\n" + c
			}
		}
		doc.Sections = append(doc.Sections, ps)
	})
	return doc
}
