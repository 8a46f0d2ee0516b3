package style

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// observation is one style fact: dimension dim took value at rng. name is
// the identifier involved (naming rules); scope bounds a rename fix.
type observation struct {
	dim, value string
	rng        Range
	name       string
	// nameNode is the identifier node of a naming observation, -1 if none.
	nameNode int
	// scopeStart, scopeEnd bound the node indexes a rename may touch.
	scopeStart, scopeEnd int
	// fix is a mechanical fix known at analysis time.
	fix *Fix
}

// analysis is everything extracted from one parse. nodes and src stay valid
// only until the analysis is released.
type analysis struct {
	obs     []observation
	diags   []Diagnostic
	stats   FileStats
	symbols []Symbol
	lines   int
	nodes   []node
	src     []byte
	// lineStarts[i] is the byte offset where line i begins.
	lineStarts []int
	// errorSpans are the outermost ERROR nodes, in source order.
	errorSpans []errorSpan
	// resyncedFrom is the line of the last restart after a runaway error.
	resyncedFrom int
}

// errorSpan is an outermost ERROR node. brokenLine is where, inside it,
// the text stops parsing: the line of its first child that is itself an
// error or a stray token. Tree-sitter's recovery can make a whole file one
// ERROR whose first children are intact definitions; restarting the analysis
// at those would only meet the same error again.
type errorSpan struct {
	rng        Range
	brokenLine int
}

// parserPool keeps parsers between calls; C parsers are not garbage
// collected, so the pool is a bounded channel that closes what it drops.
var parserPool = make(chan *parser, 32)

func getParser() (*parser, error) {
	select {
	case p := <-parserPool:
		return p, nil
	default:
		return newParser()
	}
}

func putParser(p *parser) {
	select {
	case parserPool <- p:
	default:
		p.close()
	}
}

var nodeBufPool = sync.Pool{New: func() any { return new([]node) }}

// withParsed parses src and calls fn with its flattened nodes, which are
// valid only during the call.
func withParsed(src []byte, fn func([]node)) error {
	if err := checkInput(src); err != nil {
		return err
	}
	t, err := parseOnce(src)
	if err != nil {
		return err
	}
	defer t.close()
	buf := nodeBufPool.Get().(*[]node)
	defer nodeBufPool.Put(buf)
	nodes, err := t.flattenFast(*buf)
	if err != nil {
		return err
	}
	*buf = nodes
	fn(nodes)
	return nil
}

// withAnalysis parses and analyses src, calls fn, and releases the buffers.
// The analysis reads src with its line ends normalised (analysis.src).
func withAnalysis(src []byte, fn func(*analysis)) error {
	return withAnalysisInto(src, nil, fn)
}

// withAnalysisInto is withAnalysis appending the observations to obs[:0]
// (see analyzeInto).
func withAnalysisInto(src []byte, obs []observation, fn func(*analysis)) error {
	src = normalizeLineEnds(src)
	return withParsed(src, func(nodes []node) { fn(analyzeRecovering(nodes, src, nil, obs)) })
}

// analyzeSource parses and analyses src; the result must not use nodes.
func analyzeSource(src []byte) (*analysis, error) {
	var out *analysis
	err := withAnalysis(src, func(a *analysis) {
		a.nodes = nil
		out = a
	})
	return out, err
}

// analyzer holds the state of one pass over a flattened tree.
type analyzer struct {
	n   []node
	src []byte
	a   *analysis
	// owner[i] is the nearest enclosing function or class definition of
	// node i (excluding i itself), -1 at module level.
	owner []int32
	// inError[i] is true below an ERROR node.
	inError []bool
	// docstrings are the string nodes that are docstrings.
	docstrings map[int]bool
	// assigned dedups naming observations per scope and name.
	assigned map[scopedName]bool
	// module-level facts for per-file dimensions
	imports       []importInfo
	mainGuard     bool
	topLevelCode  int
	commentRows   map[int]bool
	nonBlankLines int
}

type scopedName struct {
	owner int32
	name  string
}

type importInfo struct {
	node     int
	category int // 0 stdlib, 1 third-party, 2 local
}

// analyze runs every extraction over a flattened tree.
func analyze(nodes []node, src []byte) *analysis {
	return analyzeInto(nodes, src, nil)
}

// analyzeInto is analyze appending the observations to obs[:0] (an earlier
// analysis' storage, or nil): a 2,000-line file has thousands of them, and
// growing the slice each time was a fifth of the analysis.
func analyzeInto(nodes []node, src []byte, obs []observation) *analysis {
	if obs == nil {
		obs = make([]observation, 0, len(nodes)/4) // about one per four nodes
	}
	a := &analysis{
		nodes: nodes, src: src, obs: obs[:0],
		stats: FileStats{FunctionNames: []string{}, ClassNames: []string{}},
	}
	scratch := analyzerScratchPool.Get().(*analyzerScratch)
	defer analyzerScratchPool.Put(scratch)
	z := &analyzer{
		n: nodes, src: src, a: a,
		owner:        scratch.owner(len(nodes)),
		inError:      scratch.inError(len(nodes)),
		docstrings:   map[int]bool{},
		assigned:     map[scopedName]bool{},
		topLevelCode: -1,
		commentRows:  map[int]bool{},
	}
	z.lineFacts()
	if i := firstInvalidUTF8(src); i >= 0 && !declaresOtherEncoding(src) {
		p := positionAt(src, i)
		a.diags = append(a.diags, Diagnostic{
			Rule: RuleEncoding, Severity: SeverityError,
			Range:   Range{p, Position{p.Line, p.Column + 1}},
			Message: fmt.Sprintf("invalid UTF-8 at byte %d: Python source must be UTF-8 unless a coding declaration names another encoding", i),
		})
	}
	if len(nodes) == 0 {
		return a
	}
	if d := z.docstringOf(0); d >= 0 {
		a.stats.Docstrings++
		z.docstrings[d] = true
	}
	z.owner[0] = -1
	for i := range nodes {
		nd := &nodes[i]
		if i > 0 {
			p := nd.parentIdx()
			switch nodes[p].kind() {
			case kFunctionDef, kClassDef:
				z.owner[i] = int32(p)
			default:
				z.owner[i] = z.owner[p]
			}
			z.inError[i] = z.inError[p] || nodes[p].isError()
		}
		z.visit(i)
	}
	z.fileFacts()
	return a
}

// analyzerScratch is the per-node storage of an analyzer, kept between
// analyses: allocating it afresh for every file of a batch was a third of
// the Go heap the batch made.
type analyzerScratch struct {
	owners []int32
	errs   []bool
}

var analyzerScratchPool = sync.Pool{New: func() any { return new(analyzerScratch) }}

// owner returns n zeroed owner entries, as make would.
func (s *analyzerScratch) owner(n int) []int32 {
	s.owners = slices.Grow(s.owners[:0], n)[:n]
	clear(s.owners)
	return s.owners
}

// inError returns n false entries, as make would.
func (s *analyzerScratch) inError(n int) []bool {
	s.errs = slices.Grow(s.errs[:0], n)[:n]
	clear(s.errs)
	return s.errs
}

// brokenLine is the line of the first child of the ERROR node i that is an
// error, a missing token or an unnamed (stray) token; i's first line if none.
func (z *analyzer) brokenLine(i int) int {
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if nd := &z.n[c]; nd.isError() || nd.missing() || !nd.named() {
			return int(nd.start_row)
		}
	}
	return int(z.n[i].start_row)
}

// visit handles one node.
func (z *analyzer) visit(i int) {
	nd := &z.n[i]
	if nd.isError() && !z.inError[i] {
		z.a.errorSpans = append(z.a.errorSpans, errorSpan{nd.rng(), z.brokenLine(i)})
		z.a.stats.SyntaxErrors++
		z.syntaxError(i, false)
	}
	if nd.missing() {
		z.a.stats.SyntaxErrors++
		z.syntaxError(i, true)
	}
	switch nd.kind() {
	case kFunctionDef:
		z.function(i)
	case kClassDef:
		z.class(i)
	case kDecorator:
		z.a.stats.Decorators++
	case kListComp, kSetComp, kDictComp:
		z.a.stats.Comprehensions++
		z.observe("loops.collection", "comprehension", i)
	case kGeneratorExp:
		z.a.stats.Comprehensions++
	case kLambda:
		z.a.stats.Lambdas++
		z.observe("functions.lambda", "lambda", i)
	case kString:
		z.str(i)
	case kConcatenatedString:
		for c := nd.firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].kind() == kString && z.isFString(c) {
				z.a.stats.FStrings++
				z.observe("strings.formatting", "fstring", i)
				break
			}
		}
	case kBinaryOperator:
		z.binary(i)
	case kCall:
		z.call(i)
	case kAttribute:
		if obj := z.childByField(i, fObject); obj >= 0 && z.text(obj) == "os.path" {
			z.observe("paths.api", "os.path", i)
		}
	case kImport, kImportFrom, kFutureImport:
		z.importStatement(i)
	case kTry:
		z.a.stats.TryBlocks++
	case kExceptClause, kExceptGroupClause:
		z.except(i)
	case kFor:
		z.a.stats.Loops++
		z.forLoop(i)
	case kWhile:
		z.a.stats.Loops++
		z.topLevelStatement(i)
	case kWith:
		z.a.stats.Withs++
	case kAssignment:
		z.assignment(i)
	case kBlock:
		if nd.startByte() == nd.endByte() && !z.inError[i] {
			// tree-sitter accepts `if x:` followed by an unindented line;
			// CPython does not.
			// Point at the line that should have been indented.
			at := Position{Line: int(nd.start_row) + 1}
			if at.Line >= len(z.a.lineStarts) {
				at = nd.rng().Start
			}
			z.a.stats.SyntaxErrors++
			z.a.diags = append(z.a.diags, Diagnostic{
				Rule: RuleSyntaxError, Severity: SeverityError, Range: Range{at, at},
				Message: "syntax error: expected an indented block",
			})
			return
		}
		z.indent(i)
	case kArgumentList, kParameters, kList, kTuple, kDictionary, kSet:
		z.trailingComma(i)
	case kGenericType:
		if c := z.firstNamedChild(i); c >= 0 && z.inType(i) && isOptionalName(z.text(c)) {
			z.observe("typing.optional", "Optional", i)
		}
	case kSubscript:
		if v := z.childByField(i, fValue); v >= 0 && z.inType(i) && isOptionalName(z.text(v)) {
			z.observe("typing.optional", "Optional", i)
		}
	case kIf:
		if nd.parentIdx() == 0 {
			if c := z.childByField(i, fCondition); c >= 0 && isMainGuard(z.bytes(c)) {
				z.mainGuard = true
			}
		}
	case kExpressionStatement:
		if nd.parentIdx() == 0 && !z.docstrings[z.firstNamedChild(i)] {
			if c := z.firstNamedChild(i); c >= 0 && z.n[c].kind() == kCall {
				z.topLevelStatement(i)
			}
		}
	case kComment:
		z.comment(i)
	}
}

func (z *analyzer) bytes(i int) []byte {
	return z.src[z.n[i].startByte():z.n[i].endByte()]
}

func (z *analyzer) text(i int) string { return string(z.bytes(i)) }

func (z *analyzer) kind(i int) kind {
	if i < 0 {
		return kOther
	}
	return z.n[i].kind()
}

func (z *analyzer) childByField(i int, f field) int {
	return childByField(z.n, i, f)
}

// childByField finds the child of node i in field f. For the kinds left
// out of fieldParents the position of the child decides, following the
// grammar: call(function, arguments), attribute(object . attribute),
// binary_operator(left operator right), subscript(value [ ... ]),
// keyword_argument(name = value), assignment(left [: type] [= right]).
func childByField(n []node, i int, f field) int {
	nth := func(k int) int {
		for c := n[i].firstChild(); c >= 0; c = n[c].next() {
			if n[c].flags&flatExtra != 0 {
				continue
			}
			if k == 0 {
				return c
			}
			k--
		}
		return -1
	}
	switch n[i].kind() {
	case kCall:
		switch f {
		case fFunction:
			return nth(0)
		case fArguments:
			return nth(1)
		}
		return -1
	case kAttribute:
		switch f {
		case fObject:
			return nth(0)
		case fAttribute:
			return nth(2)
		}
		return -1
	case kBinaryOperator:
		switch f {
		case fLeft:
			return nth(0)
		case fOperator:
			return nth(1)
		case fRight:
			return nth(2)
		}
		return -1
	case kSubscript:
		if f == fValue {
			return nth(0)
		}
		return -1
	case kKeywordArgument:
		switch f {
		case fName:
			return nth(0)
		case fValue:
			return nth(2)
		}
		return -1
	case kAssignment:
		if f == fLeft {
			return nth(0)
		}
		after := kAnonEquals
		if f == fType {
			after = kAnonColon
		} else if f != fRight {
			return -1
		}
		for c := n[i].firstChild(); c >= 0; c = n[c].next() {
			if n[c].kind() == after && !n[c].named() {
				for d := n[c].next(); d >= 0; d = n[d].next() {
					if n[d].flags&flatExtra == 0 {
						return d
					}
				}
				return -1
			}
		}
		return -1
	}
	for c := n[i].firstChild(); c >= 0; c = n[c].next() {
		if n[c].fieldKind() == f {
			return c
		}
	}
	return -1
}

// firstNamedChild skips anonymous tokens and comments.
func (z *analyzer) firstNamedChild(i int) int {
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].named() && z.n[c].kind() != kComment {
			return c
		}
	}
	return -1
}

// statements lists the named children of a block or module, without
// comments.
func (z *analyzer) statements(block int) []int {
	if block < 0 {
		return nil
	}
	var out []int
	for c := z.n[block].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].named() && z.n[c].kind() != kComment {
			out = append(out, c)
		}
	}
	return out
}

// subtreeEnd is the index just past the last descendant of i.
func (z *analyzer) subtreeEnd(i int) int {
	for j := i; j >= 0; j = z.n[j].parentIdx() {
		if nx := z.n[j].next(); nx >= 0 {
			return nx
		}
	}
	return len(z.n)
}

func (z *analyzer) observe(dim, value string, i int) {
	z.a.obs = append(z.a.obs, observation{dim: dim, value: value, rng: z.n[i].rng(), nameNode: -1})
}

func (z *analyzer) syntaxError(i int, missing bool) {
	nd := &z.n[i]
	d := Diagnostic{Rule: RuleSyntaxError, Severity: SeverityError, Range: nd.rng()}
	if missing {
		d.Message = fmt.Sprintf("syntax error: missing %s", describeSymbol(nd.symbolName()))
	} else {
		near := z.bytes(i)
		if j := bytes.IndexByte(near, '\n'); j >= 0 {
			near = near[:j]
		}
		near = bytes.TrimSpace(near)
		if len(near) > 40 {
			near = append(append([]byte(nil), near[:40]...), "..."...)
		}
		if len(near) == 0 {
			d.Message = "syntax error"
		} else {
			d.Message = fmt.Sprintf("syntax error near `%s`", near)
		}
	}
	z.a.diags = append(z.a.diags, d)
}

func describeSymbol(name string) string {
	if name == "" || strings.ContainsAny(name[:1], "abcdefghijklmnopqrstuvwxyz_") {
		return strings.ReplaceAll(name, "_", " ")
	}
	return "`" + name + "`"
}
