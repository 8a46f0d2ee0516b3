package style

import "fmt"

// Position is a place in a source file: 0-based line and 0-based column in
// UTF-8 bytes within that line.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Range is a half-open span [Start, End) of a source file.
type Range struct {
	Start Position `json:"start"`
	End   Position `json:"end"`
}

// Severity ranks a Diagnostic; the values are LSP's DiagnosticSeverity.
type Severity int

// The severities, numbered as in the Language Server Protocol.
const (
	SeverityError       Severity = 1
	SeverityWarning     Severity = 2
	SeverityInformation Severity = 3
	SeverityHint        Severity = 4
)

// String returns "error", "warning", "information" or "hint".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInformation:
		return "information"
	case SeverityHint:
		return "hint"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity's name, so JSON output is readable.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{SeverityError, SeverityWarning, SeverityInformation, SeverityHint} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("style: unknown severity %q", b)
}

// TextEdit replaces the text in Range with NewText.
type TextEdit struct {
	Range   Range  `json:"range"`
	NewText string `json:"new_text"`
}

// Fix is a suggested change that resolves a Diagnostic. Edits do not overlap
// and are sorted by position.
type Fix struct {
	Title string     `json:"title"`
	Edits []TextEdit `json:"edits"`
}

// Diagnostic is one finding: a syntax error (Rule "syntax-error"), an
// encoding problem (Rule "encoding"), or a departure from the profile's
// style (Rule is the dimension's name, e.g. "naming.function").
type Diagnostic struct {
	Rule     string   `json:"rule"`
	Range    Range    `json:"range"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Fix      *Fix     `json:"fix,omitempty"`
}

// Rules that are not style dimensions.
const (
	RuleSyntaxError = "syntax-error"
	RuleEncoding    = "encoding"
)

// DimensionScore is how well one dimension of a file matches the profile.
type DimensionScore struct {
	Dimension string `json:"dimension"`
	// Score is 1 minus the Jensen–Shannon divergence (base 2) between the
	// file's distribution and the profile's, in [0, 1].
	Score float64 `json:"score"`
	// Weight is the dimension's share in the overall score; it grows with
	// the evidence in both the file and the profile.
	Weight float64 `json:"weight"`
	// Observed is the number of observations in the file.
	Observed int `json:"observed"`
	// Evidence is the number of observations in the profile.
	Evidence int `json:"evidence"`
}

// Report is the result of checking one source file against a profile.
type Report struct {
	Path string `json:"path"`
	// Score is the style consistency from 0 to 100. A file with nothing the
	// profile has enough evidence about scores 100.
	Score       float64          `json:"score"`
	Diagnostics []Diagnostic     `json:"diagnostics"`
	Dimensions  []DimensionScore `json:"dimensions,omitempty"`
}

// HasProblems reports whether any diagnostic is a warning or an error.
func (r *Report) HasProblems() bool {
	for _, d := range r.Diagnostics {
		if d.Severity <= SeverityWarning {
			return true
		}
	}
	return false
}
