package style

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// CheckSource scores src against p and lists its diagnostics. path is only
// recorded in the Report. With p == nil only syntax and encoding diagnostics
// are produced and Score is 100. It fails only for input that is not Python
// source (binary, larger than MaxSourceSize).
func CheckSource(p *Profile, path string, src []byte) (*Report, error) {
	var r *Report
	if err := withAnalysis(src, func(a *analysis) { r = check(p, path, a.src, a) }); err != nil {
		return nil, fmt.Errorf("style: %s: %w", path, err)
	}
	return r, nil
}

// Thresholds for style diagnostics: a deviation is reported only when the
// profile has a clear majority and the observed value is rare in it.
const (
	diagMinShare    = 0.75 // the preferred value's share in the profile
	diagMaxShare    = 0.10 // the observed value's share, at most
	warnMinShare    = 0.90 // from here, with warnMinEvidence, a warning
	warnMinEvidence = 20
	maxDiagsPerRule = 100
)

// scoreOnly dimensions take part in the score but never produce
// diagnostics: they describe habits, not choices a single line gets wrong.
var scoreOnly = map[string]bool{
	"functions.lambda": true, "comments.density": true, "comments.placement": true,
	"imports.form": true, "imports.placement": true,
}

// ordered dimensions are reported only when the observed value is beyond
// (longer than) the preferred one.
var ordered = map[string]bool{"layout.line_length": true, "functions.length": true}

// valueLabels word values for messages.
var valueLabels = map[string]string{
	"present": "a docstring", "missing": "no docstring", "annotated": "type hints", "unannotated": "no type hints",
	"bare": "a bare except", "specific": "a specific exception", "broad": "except Exception",
	"main_guard": `an if __name__ == "__main__" guard`, "top_level_code": "top-level code without a main guard",
	"trailing_comma": "a trailing comma", "no_trailing_comma": "no trailing comma",
	"loop_append": "a loop that appends", "comprehension": "a comprehension", "fstring": "f-strings",
	"format_method": "str.format", "percent": "%-formatting", "double": "double quotes", "single": "single quotes",
	"<=79": "at most 79 characters", "<=88": "at most 88 characters", "<=99": "at most 99 characters",
	"<=119": "at most 119 characters", ">119": "more than 119 characters", "union_operator": "X | None",
	"Optional": "Optional[X]", "early_return": "early returns", "nested": "a nested if/else",
	"dataclass": "@dataclass", "plain": "a plain class with __init__", "relative": "relative imports",
	"absolute": "absolute imports", "grouped": "stdlib, third-party, local groups", "mixed": "mixed groups",
	"conventional": "the conventional alias", "unconventional": "another alias", "unaliased": "no alias",
	"google": "Google-style sections", "numpy": "NumPy-style sections", "rest": "reST fields",
	"1-10": "1-10 lines", "11-25": "11-25 lines", "26-50": "26-50 lines", "51-100": "51-100 lines", ">100": "over 100 lines",
	"os.path": "os.path", "pathlib": "pathlib", "logging": "logging", "print": "print",
}

// dimensionLabels override valueLabels where a value name means something
// else in one dimension.
var dimensionLabels = map[string]string{
	"docstrings.format=plain": "plain prose", "comments.density=none": "no comments",
	"layout.indent=other": "another width",
}

func label(dim, v string) string {
	if l, ok := dimensionLabels[dim+"="+v]; ok {
		return l
	}
	if l, ok := valueLabels[v]; ok {
		return l
	}
	return v
}

var lineLimits = map[string]int{"<=79": 79, "<=88": 88, "<=99": 99, "<=119": 119}

// check turns an analysis into a report.
func check(p *Profile, path string, src []byte, a *analysis) *Report {
	r := &Report{Path: path, Score: 100, Diagnostics: append([]Diagnostic(nil), a.diags...)}
	if p != nil {
		r.Score, r.Dimensions = score(p, a.obs)
		r.Diagnostics = append(r.Diagnostics, styleDiagnostics(p, src, a)...)
	}
	sort.SliceStable(r.Diagnostics, func(i, j int) bool {
		x, y := r.Diagnostics[i].Range.Start, r.Diagnostics[j].Range.Start
		if x.Line != y.Line {
			return x.Line < y.Line
		}
		return x.Column < y.Column
	})
	if r.Diagnostics == nil {
		r.Diagnostics = []Diagnostic{}
	}
	return r
}

// fileDistributions counts observations per dimension.
func fileDistributions(obs []observation) map[string]Distribution {
	out := map[string]Distribution{}
	for _, o := range obs {
		d := out[o.dim]
		if d == nil {
			d = Distribution{}
			out[o.dim] = d
		}
		d[o.value]++
	}
	return out
}

// score is 100 × the evidence-weighted mean over dimensions of
// 1 − JSD(profile, file); dimensions the profile has too little evidence
// for do not count, and with none left the score is 100.
func score(p *Profile, obs []observation) (float64, []DimensionScore) {
	file := fileDistributions(obs)
	var dims []DimensionScore
	var sum, weights float64
	min := p.minEvidence()
	for _, info := range Dimensions() {
		q := file[info.Name]
		prof := p.Dimensions[info.Name]
		ev, n := prof.Total(), q.Total()
		if ev < min || n == 0 {
			continue
		}
		s := 1 - jensenShannon(prof, q)
		// More observations in the file and more evidence in the profile
		// both make a dimension's verdict more trustworthy.
		w := math.Sqrt(float64(n)) * float64(ev) / float64(ev+min)
		dims = append(dims, DimensionScore{Dimension: info.Name, Score: s, Weight: w, Observed: n, Evidence: ev})
		sum += w * s
		weights += w
	}
	if weights == 0 {
		return 100, dims
	}
	for i := range dims {
		dims[i].Weight /= weights
	}
	return math.Round(1000*sum/weights) / 10, dims
}

// jensenShannon is the Jensen–Shannon divergence of two distributions in
// bits, in [0, 1].
func jensenShannon(p, q Distribution) float64 {
	tp, tq := float64(p.Total()), float64(q.Total())
	if tp == 0 || tq == 0 {
		return 0
	}
	// Sorted keys make the floating-point sum, and so the score, the same
	// on every run.
	keys := make([]string, 0, len(p)+len(q))
	for k := range p {
		keys = append(keys, k)
	}
	for k := range q {
		if _, ok := p[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var d float64
	for _, k := range keys {
		pi, qi := float64(p[k])/tp, float64(q[k])/tq
		m := (pi + qi) / 2
		if pi > 0 {
			d += 0.5 * pi * math.Log2(pi/m)
		}
		if qi > 0 {
			d += 0.5 * qi * math.Log2(qi/m)
		}
	}
	return math.Max(0, math.Min(1, d))
}

// styleDiagnostics reports each observation that departs from a clear,
// well-evidenced preference of the profile.
func styleDiagnostics(p *Profile, src []byte, a *analysis) []Diagnostic {
	var out []Diagnostic
	min := p.minEvidence()
	// What the profile says about a dimension, worked out once per
	// dimension: a file has thousands of observations and a few dozen
	// dimensions, and these lookups were most of the scoring's time.
	type preference struct {
		skip     bool // score-only, too little evidence or no clear majority
		mode     string
		share    float64
		evidence int
		prof     Distribution
		info     DimensionInfo
		ordered  bool
		modeIdx  int
		reported int
		// message is the start of every message of the dimension, made
		// on its first finding: formatting it per finding was a fifth of
		// a keystroke's scoring.
		message string
	}
	prefs := map[string]*preference{}
	var idents identIndex
	var renames []pendingRename
	for _, o := range a.obs {
		pref := prefs[o.dim]
		if pref == nil {
			prof := p.Dimensions[o.dim]
			pref = &preference{evidence: prof.Total(), prof: prof, ordered: ordered[o.dim]}
			pref.mode, pref.share = prof.Mode()
			pref.skip = scoreOnly[o.dim] || pref.evidence < min || pref.share < diagMinShare
			if !pref.skip {
				pref.info = dimensionInfo(o.dim)
				pref.modeIdx = valueIndex(pref.info, pref.mode)
			}
			prefs[o.dim] = pref
		}
		if pref.skip || pref.mode == o.value {
			continue
		}
		ev, mode, share, info := pref.evidence, pref.mode, pref.share, pref.info
		if float64(pref.prof[o.value])/float64(ev) > diagMaxShare {
			continue // not rare in the profile
		}
		if pref.ordered && valueIndex(info, o.value) < pref.modeIdx {
			continue
		}
		if pref.reported >= maxDiagsPerRule {
			continue
		}
		pref.reported++
		sev := SeverityInformation
		if share >= warnMinShare && ev >= warnMinEvidence {
			sev = SeverityWarning
		}
		if pref.message == "" {
			pref.message = fmt.Sprintf("profile uses %s for %s in %.0f%% of %d cases; ", label(o.dim, mode), info.About, 100*share, ev)
		}
		here := "here: " + label(o.dim, o.value)
		if o.name != "" && strings.HasPrefix(o.dim, "naming.") {
			here = "`" + o.name + "` is " + o.value
		} else if o.dim == "imports.alias" && o.name != "" {
			here = "here: another alias (the convention is " + o.name + ")"
		}
		d := Diagnostic{Rule: o.dim, Range: o.rng, Severity: sev, Fix: o.fix, Message: pref.message + here}
		if o.dim == "layout.line_length" {
			if limit, ok := lineLimits[mode]; ok {
				d.Range.Start.Column = byteColumnOfRune(src, a.lineStarts, o.rng.Start.Line, limit)
			}
		}
		if o.nameNode >= 0 && a.nodes != nil {
			local := o.dim == "naming.parameter" || o.dim == "naming.variable"
			if o.scopeEnd-o.scopeStart > indexedScope {
				// Module-wide: made below, from one index of the names
				// all such renames need.
				renames = append(renames, pendingRename{len(out), o, mode, local})
				idents.want(o.name, convertName(o.name, mode))
			} else {
				d.Fix = renameFix(a, o, mode, local, &idents)
			}
		}
		out = append(out, d)
	}
	for _, r := range renames {
		out[r.diag].Fix = renameFix(a, r.o, r.conv, r.local, &idents)
	}
	return out
}

// pendingRename is a rename fix styleDiagnostics makes once every name it
// needs is known.
type pendingRename struct {
	diag  int // index in the diagnostics
	o     observation
	conv  string
	local bool
}

// indexedScope is the scope size, in nodes, from which a rename looks names
// up in an identIndex rather than scanning the scope.
var indexedScope = 1024 // a variable so a test can compare both ways

// identIndex lists the identifier nodes of an analysis by name, in order,
// for the names asked for with want (every name when none was); built on
// first use. A file has thousands of identifiers and a rename needs two
// names: indexing them all was a third of a keystroke's scoring.
type identIndex struct {
	byName map[string][]int32
	wanted map[string]bool
	// Cheap filters before the map: the wanted names' first bytes and
	// lengths (the last slot counts every longer name).
	first  [256]bool
	length [64]bool
}

// want adds names to those the index will hold; call it before of.
func (x *identIndex) want(names ...string) {
	if x.wanted == nil {
		x.wanted = map[string]bool{}
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		x.wanted[n] = true
		x.first[n[0]] = true
		x.length[min(len(n), len(x.length)-1)] = true
	}
}

func (x *identIndex) of(a *analysis) map[string][]int32 {
	if x.byName == nil {
		x.byName = map[string][]int32{}
		for i := range a.nodes {
			if nd := &a.nodes[i]; nd.kind() == kIdentifier {
				name := a.src[nd.startByte():nd.endByte()]
				if x.wanted != nil && (len(name) == 0 || !x.first[name[0]] ||
					!x.length[min(len(name), len(x.length)-1)] || !x.wanted[string(name)]) {
					continue
				}
				x.byName[string(name)] = append(x.byName[string(name)], int32(i))
			}
		}
	}
	return x.byName
}

func valueIndex(info DimensionInfo, v string) int {
	for i, x := range info.Values {
		if x == v {
			return i
		}
	}
	return len(info.Values)
}

// byteColumnOfRune returns the byte column of the n-th character of a line.
func byteColumnOfRune(src []byte, lineStarts []int, line, n int) int {
	if line >= len(lineStarts) {
		return 0
	}
	off := lineStarts[line]
	col := 0
	for k := 0; k < n && off+col < len(src) && src[off+col] != '\n'; k++ {
		_, size := utf8.DecodeRune(src[off+col:])
		col += size
	}
	return col
}

// renameFix renames every occurrence of the observed identifier within its
// scope to the profile's convention; nil when the new name is already taken
// there or cannot be formed. For local names, attribute names (obj.name) and
// keyword-argument names (f(name=...)) belong to other objects and are kept.
func renameFix(a *analysis, o observation, conv string, local bool, idents *identIndex) *Fix {
	newName := convertName(o.name, conv)
	if newName == "" {
		return nil
	}
	end := min(o.scopeEnd, len(a.nodes))
	// skip: obj.name and f(name=...) name other objects' members.
	skip := func(i int) bool {
		pi := a.nodes[i].parentIdx()
		if !local || pi < 0 {
			return false
		}
		k := a.nodes[pi].kind()
		return (k == kAttribute && childByField(a.nodes, pi, fAttribute) == i) ||
			(k == kKeywordArgument && childByField(a.nodes, pi, fName) == i)
	}
	var edits []TextEdit
	if end-o.scopeStart > indexedScope {
		// A module-wide rename: look the two names up instead of scanning
		// every node once per finding.
		byName := idents.of(a)
		for _, i := range byName[newName] {
			if int(i) >= o.scopeStart && int(i) < end && !skip(int(i)) {
				return nil
			}
		}
		for _, i := range byName[o.name] {
			if int(i) >= o.scopeStart && int(i) < end && !skip(int(i)) {
				edits = append(edits, TextEdit{Range: a.nodes[i].rng(), NewText: newName})
			}
		}
	} else {
		for i := o.scopeStart; i < end; i++ {
			nd := &a.nodes[i]
			if nd.kind() != kIdentifier || skip(i) {
				continue
			}
			switch string(a.src[nd.startByte():nd.endByte()]) {
			case newName:
				return nil
			case o.name:
				edits = append(edits, TextEdit{Range: nd.rng(), NewText: newName})
			}
		}
	}
	if len(edits) == 0 {
		return nil
	}
	title := fmt.Sprintf("rename `%s` to `%s`", o.name, newName)
	if len(edits) > 1 {
		title += fmt.Sprintf(" (%d occurrences)", len(edits))
	}
	return &Fix{Title: title, Edits: edits}
}
