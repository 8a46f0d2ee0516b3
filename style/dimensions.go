package style

import (
	"fmt"
	"sort"
	"strings"
)

// DimensionInfo describes one style dimension.
type DimensionInfo struct {
	Name string // e.g. "naming.function"
	// About is a noun phrase for messages: "function names".
	About string
	// Values are the values the dimension can take, most conventional first.
	Values []string
}

// dimensions is the registry of every dimension the analyser observes.
var dimensions = []DimensionInfo{
	{"naming.function", "function names", []string{"snake_case", "camelCase", "PascalCase", "UPPER_CASE", "other"}},
	{"naming.method", "method names", []string{"snake_case", "camelCase", "PascalCase", "UPPER_CASE", "other"}},
	{"naming.variable", "local variable names", []string{"snake_case", "camelCase", "PascalCase", "UPPER_CASE", "other"}},
	{"naming.parameter", "parameter names", []string{"snake_case", "camelCase", "PascalCase", "UPPER_CASE", "other"}},
	{"naming.class", "class names", []string{"PascalCase", "snake_case", "camelCase", "UPPER_CASE", "other"}},
	{"naming.constant", "module-level constants (names bound once to a literal)", []string{"UPPER_CASE", "snake_case", "camelCase", "PascalCase", "other"}},
	{"naming.module", "other module-level variable names", []string{"snake_case", "UPPER_CASE", "camelCase", "PascalCase", "other"}},
	{"loops.collection", "building lists", []string{"comprehension", "loop_append"}},
	{"functions.lambda", "small functions", []string{"def", "lambda"}},
	{"docstrings.presence", "public functions and classes", []string{"present", "missing"}},
	{"docstrings.format", "docstrings of functions with parameters", []string{"google", "numpy", "rest", "plain"}},
	{"docstrings.quotes", "docstring quotes", []string{`"""`, `'''`, "other"}},
	{"typing.parameters", "parameters", []string{"annotated", "unannotated"}},
	{"typing.returns", "return values", []string{"annotated", "unannotated"}},
	{"typing.optional", "optional types", []string{"union_operator", "Optional"}},
	{"strings.formatting", "string formatting", []string{"fstring", "format_method", "percent"}},
	{"strings.quotes", "strings", []string{"double", "single"}},
	{"layout.line_length", "lines over 72 characters", []string{"<=79", "<=88", "<=99", "<=119", ">119"}},
	{"layout.indent", "indentation", []string{"4 spaces", "2 spaces", "tab", "other"}},
	{"layout.trailing_comma", "multi-line brackets", []string{"trailing_comma", "no_trailing_comma"}},
	{"imports.relative", "imports", []string{"absolute", "relative"}},
	{"imports.form", "import statements", []string{"import", "from"}},
	{"imports.alias", "well-known module aliases (np, pd, nn, plt, F, tf)", []string{"conventional", "unaliased", "unconventional"}},
	{"imports.grouping", "import grouping", []string{"grouped", "mixed"}},
	{"imports.placement", "import placement", []string{"top_level", "local"}},
	{"functions.length", "function length", []string{"1-10", "11-25", "26-50", "51-100", ">100"}},
	{"control.early_return", "branching in functions", []string{"early_return", "nested"}},
	{"exceptions.handler", "except clauses", []string{"specific", "broad", "bare"}},
	{"paths.api", "path handling", []string{"pathlib", "os.path"}},
	{"output.api", "output", []string{"logging", "print"}},
	{"scripts.main_guard", "scripts", []string{"main_guard", "top_level_code"}},
	{"classes.kind", "data-holding classes", []string{"dataclass", "plain"}},
	{"comments.density", "comment density per file", []string{"none", "low", "medium", "high"}},
	{"comments.placement", "comments", []string{"own_line", "inline"}},
}

// Dimensions describes every dimension a profile can hold, sorted by name.
func Dimensions() []DimensionInfo {
	out := append([]DimensionInfo(nil), dimensions...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func dimensionInfo(name string) DimensionInfo {
	for _, d := range dimensions {
		if d.Name == name {
			return d
		}
	}
	return DimensionInfo{Name: name, About: name}
}

// summaryMinShare is the share a value needs to count as a preference in
// Summary.
const summaryMinShare = 0.7

// Summary lists the profile's strong preferences, one bullet per line, for
// an LLM prompt, e.g. "- function names: snake_case (97% of 212)".
// Dimensions with less evidence than the threshold or no clear majority are
// left out; an empty profile gives a line saying so.
func (p *Profile) Summary() string {
	var b strings.Builder
	for _, info := range Dimensions() {
		d := p.Dimensions[info.Name]
		n := d.Total()
		if n < p.minEvidence() {
			continue
		}
		v, share := d.Mode()
		if share < summaryMinShare {
			continue
		}
		fmt.Fprintf(&b, "- %s: %s (%.0f%% of %d)\n", info.About, v, 100*share, n)
	}
	if b.Len() == 0 {
		return "- no strong style preferences (too little code learned)\n"
	}
	return b.String()
}
