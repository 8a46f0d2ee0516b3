package style

import "fmt"

// Symbol is a top-level function or class, or a method of a top-level class,
// for chunking code by definition (retrieval). Lines are 0-based and
// inclusive; the span includes decorators. Bytes are a half-open range.
type Symbol struct {
	Kind      string `json:"kind"` // "function", "class" or "method"
	Name      string `json:"name"`
	Parent    string `json:"parent,omitempty"` // the class of a method
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	StartByte int    `json:"start_byte"`
	EndByte   int    `json:"end_byte"`
}

// Symbols lists the top-level functions and classes of src and the methods
// of those classes, in source order. Syntax errors elsewhere do not hide the
// definitions tree-sitter could still recognise.
func Symbols(src []byte) ([]Symbol, error) {
	if err := checkInput(src); err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	a, err := analyzeSource(src)
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	return a.symbols, nil
}
