// Package style learns a Python programmer's personal coding style and
// measures code against it.
//
// Python is parsed with tree-sitter (cgo), which tolerates syntax errors. An
// open Document re-parses after an edit only the statements around it where
// that is provably the full parse's result (window.go), else incrementally
// with tree-sitter. An analysis extracts style
// observations along 34 dimensions (naming per kind, docstring
// format, type-hint coverage, string formatting, quotes, import style,
// function length, ...). A Profile aggregates those observations over a code
// base as distributions with counts, so that the strength of the evidence
// behind each preference stays visible. Checking a file against a Profile
// gives a 0–100 consistency score (1 minus the Jensen–Shannon divergence per
// dimension, weighted by evidence) and Diagnostics that say what the profile
// prefers and how strongly, with a suggested Fix where one is mechanical.
//
// Stats gives raw counts defined exactly as Python's own ast module defines
// them, so that the parser's view of a file can be checked against CPython.
//
// Positions are 0-based lines and 0-based columns counted in UTF-8 bytes.
package style
