package rag

import "context"

// loadPaper reads a paper file into the chunker's view of it; parseSymbols
// finds the definitions of a Python file. They are variables so the package
// builds while the paper and style packages are being written; nil means
// the support is missing.
var (
	loadPaper    func(ctx context.Context, path string) (*paperDoc, error)
	parseSymbols func(src []byte) ([]codeSymbol, error)
)
