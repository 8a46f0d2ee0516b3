package style

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
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

// withAnalysis parses and analyses src, calls fn, and releases the buffers.
func withAnalysis(src []byte, fn func(*analysis)) error {
	if err := checkInput(src); err != nil {
		return err
	}
	p, err := getParser()
	if err != nil {
		return err
	}
	t, err := p.parse(src, nil)
	putParser(p)
	if err != nil {
		return err
	}
	defer t.close()
	buf := nodeBufPool.Get().(*[]node)
	*buf = t.flatten(*buf)
	defer nodeBufPool.Put(buf)
	fn(analyze(*buf, src))
	return nil
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
	a := &analysis{
		nodes: nodes, src: src,
		stats: FileStats{FunctionNames: []string{}, ClassNames: []string{}},
	}
	z := &analyzer{
		n: nodes, src: src, a: a,
		owner:        make([]int32, len(nodes)),
		inError:      make([]bool, len(nodes)),
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

// visit handles one node.
func (z *analyzer) visit(i int) {
	nd := &z.n[i]
	if nd.isError() && !z.inError[i] {
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

// ---- tree helpers ----

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

// ---- syntax errors ----

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

// ---- definitions ----

// container returns the node that directly holds definition i: the class,
// function or module whose body it is in.
func (z *analyzer) container(i int) int {
	p := z.n[i].parentIdx()
	if z.kind(p) == kDecoratedDef {
		p = z.n[p].parentIdx()
	}
	if z.kind(p) == kBlock {
		p = z.n[p].parentIdx()
	}
	return p
}

// outer returns the decorated_definition wrapping i, or i.
func (z *analyzer) outer(i int) int {
	if p := z.n[i].parentIdx(); z.kind(p) == kDecoratedDef {
		return p
	}
	return i
}

// frameworkNames are method names fixed by a framework, not chosen by the
// author (unittest, logging, http.server...).
var frameworkNames = map[string]bool{
	"setUp": true, "tearDown": true, "setUpClass": true, "tearDownClass": true, "asyncSetUp": true,
	"asyncTearDown": true, "setUpModule": true, "tearDownModule": true, "addCleanup": true, "maxDiff": true,
	"emit": true, "do_GET": true, "do_POST": true, "do_HEAD": true, "do_PUT": true, "do_DELETE": true,
}

func frameworkName(name string) bool {
	return frameworkNames[name] || strings.HasPrefix(name, "visit_") || strings.HasPrefix(name, "depart_") ||
		strings.HasPrefix(name, "do_") || strings.HasPrefix(name, "test")
}

func (z *analyzer) function(i int) {
	st := &z.a.stats
	st.Functions++
	nameNode := z.childByField(i, fName)
	name := ""
	if nameNode >= 0 {
		name = z.text(nameNode)
	}
	st.FunctionNames = append(st.FunctionNames, name)
	cont := z.container(i)
	isMethod := z.kind(cont) == kClassDef
	body := z.childByField(i, fBody)
	doc := z.docstringOf(body)
	if doc >= 0 {
		st.Docstrings++
		z.docstrings[doc] = true
	}
	end := z.subtreeEnd(i)

	// parameters
	params := z.childByField(i, fParameters)
	nParams := 0
	if params >= 0 {
		first := true
		for c := z.n[params].firstChild(); c >= 0; c = z.n[c].next() {
			pname, annotated, ok := z.parameter(c)
			if !ok {
				continue
			}
			st.Args++
			if annotated {
				st.AnnotatedArgs++
			}
			selfParam := first && isMethod && (z.text(pname) == "self" || z.text(pname) == "cls")
			first = false
			if selfParam {
				continue
			}
			nParams++
			if annotated {
				z.observe("typing.parameters", "annotated", c)
			} else {
				z.observe("typing.parameters", "unannotated", c)
			}
			z.naming("naming.parameter", pname, i, end)
		}
	}
	if z.childByField(i, fReturnType) >= 0 {
		st.AnnotatedReturns++
		if name != "__init__" {
			z.observeName("typing.returns", "annotated", nameNode)
		}
	} else if name != "__init__" && nameNode >= 0 {
		z.observeName("typing.returns", "unannotated", nameNode)
	}

	if nameNode >= 0 && !frameworkName(name) {
		if isMethod {
			z.naming("naming.method", nameNode, 0, len(z.n))
		} else {
			z.naming("naming.function", nameNode, 0, len(z.n))
		}
	}
	z.observe("functions.lambda", "def", nameNodeOr(nameNode, i))

	public := name != "" && !strings.HasPrefix(name, "_")
	if public && z.kind(cont) != kFunctionDef && nameNode >= 0 {
		if doc >= 0 {
			z.observeName("docstrings.presence", "present", nameNode)
		} else {
			z.observeName("docstrings.presence", "missing", nameNode)
		}
	}
	if doc >= 0 {
		z.docstringStyle(doc, nParams > 0)
	}
	rows := int(z.n[i].end_row-z.n[i].start_row) + 1
	z.observeName("functions.length", lengthBucket(rows), nameNodeOr(nameNode, i))
	z.earlyReturn(body)
	z.symbol(i, cont, nameNode)
}

func nameNodeOr(name, i int) int {
	if name >= 0 {
		return name
	}
	return i
}

// observeName records an observation located on a name node.
func (z *analyzer) observeName(dim, value string, nameNode int) {
	if nameNode < 0 {
		return
	}
	z.observe(dim, value, nameNode)
}

// parameter interprets one child of a parameters node: the identifier it
// binds and whether it is annotated; ok is false for separators and
// punctuation.
func (z *analyzer) parameter(c int) (name int, annotated, ok bool) {
	switch z.n[c].kind() {
	case kIdentifier:
		return c, false, true
	case kListSplatPattern, kDictSplatPattern:
		return z.firstNamedChild(c), false, true
	case kDefaultParameter:
		return z.childByField(c, fName), false, true
	case kTypedDefaultParameter:
		return z.childByField(c, fName), true, true
	case kTypedParameter:
		inner := z.firstNamedChild(c)
		if k := z.kind(inner); k == kListSplatPattern || k == kDictSplatPattern {
			inner = z.firstNamedChild(inner)
		}
		return inner, true, true
	}
	return -1, false, false
}

func (z *analyzer) class(i int) {
	st := &z.a.stats
	st.Classes++
	nameNode := z.childByField(i, fName)
	name := ""
	if nameNode >= 0 {
		name = z.text(nameNode)
	}
	st.ClassNames = append(st.ClassNames, name)
	body := z.childByField(i, fBody)
	doc := z.docstringOf(body)
	if doc >= 0 {
		st.Docstrings++
		z.docstrings[doc] = true
	}
	if nameNode >= 0 {
		z.naming("naming.class", nameNode, 0, len(z.n))
		if !strings.HasPrefix(name, "_") && z.kind(z.container(i)) != kFunctionDef {
			if doc >= 0 {
				z.observeName("docstrings.presence", "present", nameNode)
			} else {
				z.observeName("docstrings.presence", "missing", nameNode)
			}
		}
		if doc >= 0 {
			z.docstringQuotes(doc)
		}
		if k := z.classKind(i, body); k != "" {
			z.observeName("classes.kind", k, nameNode)
		}
	}
	z.symbol(i, z.container(i), nameNode)
}

// classKind is "dataclass" for a decorated data class, "plain" for a class
// without bases whose __init__ only stores attributes, "" otherwise.
func (z *analyzer) classKind(i, body int) string {
	if o := z.outer(i); o != i {
		for c := z.n[o].firstChild(); c >= 0; c = z.n[c].next() {
			if z.kind(c) != kDecorator {
				continue
			}
			t := z.text(c)
			if strings.Contains(t, "dataclass") || strings.Contains(t, "attr.s") || strings.Contains(t, "attrs.") ||
				strings.HasPrefix(t, "@define") || strings.HasPrefix(t, "@frozen") {
				return "dataclass"
			}
		}
	}
	if sc := z.childByField(i, fSuperclasses); sc >= 0 {
		if t := strings.TrimSpace(strings.Trim(z.text(sc), "()")); t != "" && t != "object" {
			return ""
		}
	}
	var init int = -1
	for _, s := range z.statements(body) {
		if z.kind(s) == kFunctionDef {
			if nm := z.childByField(s, fName); nm >= 0 && z.text(nm) == "__init__" {
				init = s
			}
		}
	}
	if init < 0 {
		return ""
	}
	stmts := z.statements(z.childByField(init, fBody))
	if len(stmts) == 0 {
		return ""
	}
	for _, s := range stmts {
		if z.docstrings[z.firstNamedChild(s)] {
			continue
		}
		c := z.firstNamedChild(s)
		if z.kind(s) != kExpressionStatement || z.kind(c) != kAssignment {
			return ""
		}
		left := z.childByField(c, fLeft)
		if z.kind(left) != kAttribute || !bytes.HasPrefix(z.bytes(left), []byte("self.")) {
			return ""
		}
	}
	return "plain"
}

// symbol records top-level definitions and methods of top-level classes.
func (z *analyzer) symbol(i, cont, nameNode int) {
	if nameNode < 0 {
		return
	}
	s := Symbol{Name: z.text(nameNode)}
	switch {
	case cont == 0 && z.kind(i) == kClassDef:
		s.Kind = "class"
	case cont == 0:
		s.Kind = "function"
	case z.kind(cont) == kClassDef && z.container(cont) == 0 && z.kind(i) == kFunctionDef:
		s.Kind = "method"
		if cn := z.childByField(cont, fName); cn >= 0 {
			s.Parent = z.text(cn)
		}
	default:
		return
	}
	o := &z.n[z.outer(i)]
	s.StartLine, s.EndLine = int(o.start_row), int(o.end_row)
	s.StartByte, s.EndByte = o.startByte(), o.endByte()
	z.a.symbols = append(z.a.symbols, s)
}

// ---- docstrings ----

// docstringOf returns the string node that is the docstring of a block (or
// of the module, block 0), or -1.
func (z *analyzer) docstringOf(block int) int {
	if block < 0 {
		return -1
	}
	first := z.firstNamedChild(block)
	if z.kind(first) != kExpressionStatement {
		return -1
	}
	expr := -1
	for c := z.n[first].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].kind() == kComment {
			continue
		}
		if expr >= 0 || !z.n[c].named() {
			return -1 // a tuple, not a single expression
		}
		expr = c
	}
	for z.kind(expr) == kParenthesized {
		inner := -1
		for c := z.n[expr].firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].named() && z.n[c].kind() != kComment {
				if inner >= 0 {
					return -1
				}
				inner = c
			}
		}
		expr = inner
	}
	switch z.kind(expr) {
	case kString:
		if p := z.stringPrefix(expr); !strings.ContainsAny(p, "fFbB") {
			return expr
		}
	case kConcatenatedString:
		for c := z.n[expr].firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].kind() == kString && strings.ContainsAny(z.stringPrefix(c), "fFbB") {
				return -1
			}
		}
		return expr
	}
	return -1
}

// stringPrefix returns the letters before the opening quote (r, b, f, u...).
func (z *analyzer) stringPrefix(s int) string {
	c := z.n[s].firstChild()
	if c < 0 || z.n[c].kind() != kStringStart {
		return ""
	}
	return strings.TrimRight(z.text(c), `"'`)
}

func (z *analyzer) isFString(s int) bool {
	return strings.ContainsAny(z.stringPrefix(s), "fF")
}

func (z *analyzer) docstringQuotes(doc int) {
	t := z.bytes(doc)
	t = bytes.TrimLeft(t, "rRuU")
	switch {
	case bytes.HasPrefix(t, []byte(`"""`)):
		z.observe("docstrings.quotes", `"""`, doc)
	case bytes.HasPrefix(t, []byte(`'''`)):
		z.observe("docstrings.quotes", `'''`, doc)
	default:
		z.observe("docstrings.quotes", "other", doc)
	}
}

func (z *analyzer) docstringStyle(doc int, hasParams bool) {
	z.docstringQuotes(doc)
	if !hasParams {
		return
	}
	z.observe("docstrings.format", docstringFormat(z.bytes(doc)), doc)
}

// docstringFormat recognises the section markers of the common formats.
func docstringFormat(doc []byte) string {
	s := string(doc)
	switch {
	case strings.Contains(s, ":param") || strings.Contains(s, ":return") || strings.Contains(s, ":rtype") ||
		strings.Contains(s, ":raises") || strings.Contains(s, ":type "):
		return "rest"
	case numpySection(s):
		return "numpy"
	case googleSection(s):
		return "google"
	}
	return "plain"
}

var sectionNames = []string{"Args", "Arguments", "Parameters", "Params", "Returns", "Return", "Yields", "Raises", "Attributes", "Examples", "Example", "Notes", "Note", "Keyword Args", "Other Parameters", "See Also", "References"}

func numpySection(s string) bool {
	lines := strings.Split(s, "\n")
	for k := 0; k+1 < len(lines); k++ {
		title := strings.TrimSpace(lines[k])
		under := strings.TrimSpace(lines[k+1])
		if len(under) >= 3 && strings.Trim(under, "-") == "" {
			for _, n := range sectionNames {
				if title == n {
					return true
				}
			}
		}
	}
	return false
}

func googleSection(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		for _, n := range sectionNames {
			if t == n+":" {
				return true
			}
		}
	}
	return false
}

// ---- strings ----

func (z *analyzer) str(i int) {
	nd := &z.n[i]
	inConcat := z.kind(nd.parentIdx()) == kConcatenatedString
	if !inConcat && z.isFString(i) {
		z.a.stats.FStrings++
		z.observe("strings.formatting", "fstring", i)
	}
	if z.docstrings[i] || (inConcat && z.docstrings[nd.parentIdx()]) {
		return
	}
	start := nd.firstChild()
	if start < 0 || z.n[start].kind() != kStringStart {
		return
	}
	opener := z.bytes(start)
	if len(opener) == 0 {
		return
	}
	q := opener[len(opener)-1]
	if bytes.HasSuffix(opener, []byte{q, q, q}) {
		return // triple quotes are a different choice
	}
	// The closing token is the last child.
	end := -1
	for c := start; c >= 0; c = z.n[c].next() {
		end = c
	}
	if end == start || z.n[end].endByte()-z.n[end].startByte() != 1 {
		return
	}
	inner := z.src[z.n[start].endByte():z.n[end].startByte()]
	if bytes.ContainsAny(inner, `'"\`) || bytes.IndexByte(inner, '\n') >= 0 {
		return // the content constrains or complicates the quote choice
	}
	value, other := "double", "'"
	if q == '\'' {
		value, other = "single", `"`
	}
	o := observation{dim: "strings.quotes", value: value, rng: nd.rng(), nameNode: -1}
	so, eo := z.n[start].rng(), z.n[end].rng()
	so.Start.Column = so.End.Column - 1
	o.fix = &Fix{Title: "use " + map[string]string{"'": "single", `"`: "double"}[other] + " quotes", Edits: []TextEdit{
		{Range: so, NewText: other}, {Range: eo, NewText: other},
	}}
	z.a.obs = append(z.a.obs, o)
}

func (z *analyzer) binary(i int) {
	op := z.childByField(i, fOperator)
	if op < 0 {
		return
	}
	switch z.n[op].kind() {
	case kAnonPercent:
		if k := z.kind(z.childByField(i, fLeft)); k == kString || k == kConcatenatedString {
			z.observe("strings.formatting", "percent", i)
		}
	case kAnonPipe:
		if z.inType(i) && (z.kind(z.childByField(i, fLeft)) == kNone || z.kind(z.childByField(i, fRight)) == kNone) {
			z.observe("typing.optional", "union_operator", i)
		}
	}
}

// inType reports whether i is inside a type annotation.
func (z *analyzer) inType(i int) bool {
	for p := z.n[i].parentIdx(); p >= 0; p = z.n[p].parentIdx() {
		switch z.n[p].kind() {
		case kType:
			return true
		case kBlock, kModule, kExpressionStatement, kFunctionDef, kClassDef, kCall:
			return false
		}
	}
	return false
}

func isOptionalName(s string) bool { return s == "Optional" || strings.HasSuffix(s, ".Optional") }

// ---- calls ----

var logMethods = map[string]bool{"debug": true, "info": true, "warning": true, "warn": true, "error": true, "exception": true, "critical": true, "log": true, "fatal": true}

var pathClasses = map[string]bool{"Path": true, "PurePath": true, "PosixPath": true, "WindowsPath": true, "pathlib.Path": true, "pathlib.PurePath": true}

func (z *analyzer) call(i int) {
	fn := z.childByField(i, fFunction)
	switch z.kind(fn) {
	case kIdentifier:
		name := z.bytes(fn)
		switch {
		case string(name) == "print":
			z.observe("output.api", "print", fn)
		case pathClasses[string(name)]:
			z.observe("paths.api", "pathlib", fn)
		}
	case kAttribute:
		obj, attr := z.childByField(fn, fObject), z.childByField(fn, fAttribute)
		if obj < 0 || attr < 0 {
			return
		}
		an := string(z.bytes(attr))
		switch {
		case an == "format" && (z.kind(obj) == kString || z.kind(obj) == kConcatenatedString):
			z.observe("strings.formatting", "format_method", fn)
		case logMethods[an] && isLoggerName(z.bytes(obj)):
			z.observe("output.api", "logging", fn)
		case pathClasses[z.text(fn)]:
			z.observe("paths.api", "pathlib", fn)
		}
	}
}

func isLoggerName(b []byte) bool {
	s := string(b)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(strings.TrimLeft(s, "_"))
	return s == "logging" || s == "logger" || s == "log" || s == "_log"
}

// ---- imports ----

// conventionalAliases maps a module to the alias its community uses.
var conventionalAliases = map[string]string{
	"numpy": "np", "pandas": "pd", "matplotlib.pyplot": "plt", "tensorflow": "tf", "seaborn": "sns",
	"torch.nn": "nn", "torch.nn.functional": "F", "networkx": "nx", "polars": "pl", "jax.numpy": "jnp",
	"scipy": "sp", "torch.distributed": "dist", "torch.multiprocessing": "mp",
}

func (z *analyzer) importStatement(i int) {
	z.a.stats.Imports++
	k := z.n[i].kind()
	if k == kFutureImport {
		return
	}
	if z.owner[i] >= 0 {
		z.observe("imports.placement", "local", i)
	} else {
		z.observe("imports.placement", "top_level", i)
	}
	module := ""
	relative := false
	if k == kImportFrom {
		z.observe("imports.form", "from", i)
		m := z.childByField(i, fModuleName)
		if z.kind(m) == kRelativeImport {
			relative = true
		} else if m >= 0 {
			module = z.text(m)
		}
	} else {
		z.observe("imports.form", "import", i)
	}
	if relative {
		z.observe("imports.relative", "relative", i)
	} else {
		z.observe("imports.relative", "absolute", i)
	}
	// aliases of well-known modules
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].fieldKind() != fName {
			continue
		}
		name, alias := c, -1
		if z.n[c].kind() == kAliasedImport {
			name, alias = z.childByField(c, fName), z.childByField(c, fAlias)
		}
		if name < 0 {
			continue
		}
		full := z.text(name)
		if k == kImportFrom {
			if relative {
				continue
			}
			full = module + "." + full
		}
		conv, ok := conventionalAliases[full]
		if !ok {
			continue
		}
		bound := z.text(name)
		if alias >= 0 {
			bound = z.text(alias)
		} else if k == kImport {
			bound = full
		}
		switch {
		case bound == conv:
			z.observe("imports.alias", "conventional", c)
		case alias < 0:
			z.observe("imports.alias", "unaliased", c)
		default:
			z.observe("imports.alias", "unconventional", c)
			z.a.obs[len(z.a.obs)-1].name = full + " as " + conv
		}
	}
	if z.n[i].parentIdx() == 0 {
		cat := 1
		root := module
		if k == kImport {
			if c := z.childByField(i, fName); c >= 0 {
				root = z.text(c)
				if z.kind(c) == kAliasedImport {
					root = z.text(z.childByField(c, fName))
				}
			}
		}
		if j := strings.IndexByte(root, '.'); j >= 0 {
			root = root[:j]
		}
		switch {
		case relative:
			cat = 2
		case stdlibModules[root]:
			cat = 0
		}
		z.imports = append(z.imports, importInfo{node: i, category: cat})
	}
}

// ---- control flow ----

func (z *analyzer) except(i int) {
	typ := -1
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].named() && z.n[c].kind() != kComment && z.n[c].kind() != kBlock {
			typ = c
			break
		}
	}
	kw := z.n[i].firstChild()
	if typ < 0 {
		z.a.stats.BareExcepts++
		o := observation{dim: "exceptions.handler", value: "bare", rng: z.n[kw].rng(), nameNode: -1}
		o.fix = &Fix{Title: "catch Exception instead of everything", Edits: []TextEdit{{
			Range: Range{z.n[kw].rng().End, z.n[kw].rng().End}, NewText: " Exception",
		}}}
		z.a.obs = append(z.a.obs, o)
		return
	}
	if z.kind(typ) == kAsPattern {
		if c := z.firstNamedChild(typ); c >= 0 {
			typ = c
		}
	}
	switch z.text(typ) {
	case "Exception", "BaseException":
		z.observe("exceptions.handler", "broad", typ)
	default:
		z.observe("exceptions.handler", "specific", typ)
	}
}

func (z *analyzer) forLoop(i int) {
	z.topLevelStatement(i)
	// variables bound by the loop
	if z.owner[i] >= 0 && z.kind(int(z.owner[i])) == kFunctionDef {
		z.targets(z.childByField(i, fLeft), "naming.variable", i)
	}
	if z.childByField(i, fAlternative) >= 0 {
		return
	}
	stmts := z.statements(z.childByField(i, fBody))
	if len(stmts) != 1 {
		return
	}
	s := stmts[0]
	if z.kind(s) == kIf && z.childByField(s, fAlternative) < 0 {
		inner := z.statements(z.childByField(s, fConsequence))
		if len(inner) != 1 {
			return
		}
		s = inner[0]
	}
	if z.kind(s) != kExpressionStatement {
		return
	}
	call := z.firstNamedChild(s)
	if z.kind(call) != kCall {
		return
	}
	fn := z.childByField(call, fFunction)
	if z.kind(fn) != kAttribute {
		return
	}
	if attr := z.childByField(fn, fAttribute); attr >= 0 && z.text(attr) == "append" {
		r := z.n[i].rng()
		if right := z.childByField(i, fRight); right >= 0 {
			r.End = z.n[right].rng().End
		}
		z.a.obs = append(z.a.obs, observation{dim: "loops.collection", value: "loop_append", rng: r, nameNode: -1})
	}
}

func (z *analyzer) topLevelStatement(i int) {
	if z.n[i].parentIdx() == 0 && z.topLevelCode < 0 {
		z.topLevelCode = i
	}
}

// earlyReturn classifies a function body: guard clauses that return early,
// or the main work nested under a condition.
func (z *analyzer) earlyReturn(body int) {
	stmts := z.statements(body)
	if len(stmts) > 0 && z.docstrings[z.firstNamedChild(stmts[0])] {
		stmts = stmts[1:]
	}
	if len(stmts) == 0 {
		return
	}
	for _, s := range stmts[:len(stmts)-1] {
		if z.kind(s) == kIf && z.childByField(s, fAlternative) < 0 && z.endsInExit(z.childByField(s, fConsequence)) {
			z.observe("control.early_return", "early_return", z.firstChildOr(s))
			return
		}
	}
	last := stmts[len(stmts)-1]
	if z.kind(last) != kIf {
		return
	}
	cons := z.childByField(last, fConsequence)
	alt := z.childByField(last, fAlternative)
	switch {
	case alt >= 0 && z.kind(alt) == kElseClause && z.endsInExit(cons) && z.endsInExit(z.childByField(alt, fBody)):
		z.observe("control.early_return", "nested", z.firstChildOr(last))
	case alt < 0 && len(stmts) == 1 && len(z.statements(cons)) >= 3:
		z.observe("control.early_return", "nested", z.firstChildOr(last))
	}
}

func (z *analyzer) firstChildOr(i int) int {
	if c := z.n[i].firstChild(); c >= 0 {
		return c
	}
	return i
}

func (z *analyzer) endsInExit(block int) bool {
	stmts := z.statements(block)
	if len(stmts) == 0 {
		return false
	}
	k := z.kind(stmts[len(stmts)-1])
	return k == kReturn || k == kRaise || k == kContinue
}

// ---- assignments and names ----

func (z *analyzer) assignment(i int) {
	left := z.childByField(i, fLeft)
	right := z.childByField(i, fRight)
	owner := int(z.owner[i])
	stmt := z.n[i].parentIdx()
	switch {
	case owner >= 0 && z.kind(owner) == kFunctionDef:
		z.targets(left, "naming.variable", owner)
	case owner < 0 && z.kind(stmt) == kExpressionStatement && z.n[stmt].parentIdx() == 0 && right >= 0:
		if z.kind(left) == kIdentifier && z.isLiteral(right) {
			z.targets(left, "naming.constant", -1)
		} else {
			z.targets(left, "naming.module", -1)
		}
	}
}

// targets observes the names bound by an assignment or loop target.
func (z *analyzer) targets(t int, dim string, scope int) {
	switch z.kind(t) {
	case kIdentifier:
		start, end := 0, len(z.n)
		if scope >= 0 {
			start, end = scope, z.subtreeEnd(scope)
		}
		key := scopedName{int32(scope), z.text(t)}
		if z.assigned[key] {
			return
		}
		z.assigned[key] = true
		z.naming(dim, t, start, end)
	case kPatternList, kTuplePattern, kListPattern, kTuple, kList, kExpressionList:
		for c := z.n[t].firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].named() {
				z.targets(c, dim, scope)
			}
		}
	}
}

// isLiteral reports whether an expression is a constant literal.
func (z *analyzer) isLiteral(e int) bool {
	switch z.kind(e) {
	case kInteger, kFloat, kTrue, kFalse, kNone:
		return true
	case kString:
		return !z.isFString(e)
	case kConcatenatedString:
		for c := z.n[e].firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].kind() == kString && z.isFString(c) {
				return false
			}
		}
		return true
	case kUnaryOperator:
		return z.isLiteral(z.firstNamedChild(e))
	case kTuple, kList, kSet, kParenthesized, kDictionary, kPair:
		for c := z.n[e].firstChild(); c >= 0; c = z.n[c].next() {
			if z.n[c].named() && z.n[c].kind() != kComment && !z.isLiteral(c) {
				return false
			}
		}
		return true
	}
	return false
}

// naming observes the naming convention of identifier node id; renames may
// touch node indexes [scopeStart, scopeEnd).
func (z *analyzer) naming(dim string, id, scopeStart, scopeEnd int) {
	if z.kind(id) != kIdentifier {
		return
	}
	name := z.text(id)
	conv := classifyName(name)
	if conv == "" {
		return
	}
	z.a.obs = append(z.a.obs, observation{
		dim: dim, value: conv, rng: z.n[id].rng(), name: name,
		nameNode: id, scopeStart: scopeStart, scopeEnd: scopeEnd,
	})
}

// ---- layout ----

func (z *analyzer) indentOf(row int) (width int, tab bool) {
	if row >= len(z.a.lineStarts) {
		return 0, false
	}
	for j := z.a.lineStarts[row]; j < len(z.src); j++ {
		switch z.src[j] {
		case ' ':
			width++
		case '\t':
			width++
			tab = true
		default:
			return width, tab
		}
	}
	return width, tab
}

func (z *analyzer) indent(block int) {
	p := z.n[block].parentIdx()
	if p < 0 || z.n[block].start_row == z.n[p].start_row || z.n[block].endByte() == z.n[block].startByte() {
		return
	}
	inner, tab := z.indentOf(int(z.n[block].start_row))
	outer, _ := z.indentOf(int(z.n[p].start_row))
	value := "other"
	switch {
	case tab:
		value = "tab"
	case inner-outer == 4:
		value = "4 spaces"
	case inner-outer == 2:
		value = "2 spaces"
	}
	r := z.n[block].rng()
	r.End = Position{r.Start.Line, r.Start.Column}
	r.Start.Column = 0
	z.a.obs = append(z.a.obs, observation{dim: "layout.indent", value: value, rng: r, nameNode: -1})
}

func (z *analyzer) trailingComma(i int) {
	last, prev := -1, -1
	for c := z.n[i].firstChild(); c >= 0; c = z.n[c].next() {
		if z.n[c].kind() == kComment {
			continue
		}
		prev, last = last, c
	}
	if last < 0 || prev < 0 {
		return
	}
	switch z.n[last].kind() {
	case kAnonCloseParen, kAnonCloseBracket, kAnonCloseBrace:
	default:
		return
	}
	if z.n[prev].end_row >= z.n[last].start_row || z.n[i].start_row == z.n[prev].end_row {
		return // the closing bracket hugs the last element, or one line
	}
	if z.n[prev].kind() == kAnonComma {
		z.observe("layout.trailing_comma", "trailing_comma", last)
		return
	}
	if !z.n[prev].named() || z.n[prev].kind() == kGeneratorExp {
		return // an empty bracket pair or a bare generator argument
	}
	if z.kind(prev) == kListSplatPattern || z.kind(prev) == kDictSplatPattern {
		if z.n[i].kind() == kParameters {
			// `**kwargs,` is fine in Python 3, but style guides disagree.
			return
		}
	}
	end := z.n[prev].rng().End
	z.a.obs = append(z.a.obs, observation{
		dim: "layout.trailing_comma", value: "no_trailing_comma", rng: z.n[prev].rng(), nameNode: -1,
		fix: &Fix{Title: "add a trailing comma", Edits: []TextEdit{{Range: Range{end, end}, NewText: ","}}},
	})
}

func (z *analyzer) comment(i int) {
	row := int(z.n[i].start_row)
	z.commentRows[row] = true
	w, _ := z.indentOf(row)
	if int(z.n[i].start_col) > w {
		z.observe("comments.placement", "inline", i)
	} else {
		z.observe("comments.placement", "own_line", i)
	}
}

// lineFacts computes line offsets, line-length observations and counts.
func (z *analyzer) lineFacts() {
	src := z.src
	starts := make([]int, 0, bytes.Count(src, []byte{'\n'})+1)
	for off := 0; off <= len(src); {
		starts = append(starts, off)
		j := bytes.IndexByte(src[off:], '\n')
		end := len(src)
		if j >= 0 {
			end = off + j
		}
		line := bytes.TrimRight(src[off:end], "\r")
		if len(bytes.TrimSpace(line)) > 0 {
			z.nonBlankLines++
		}
		if len(line) > longLine {
			if n := utf8.RuneCount(line); n > longLine {
				row := len(starts) - 1
				z.a.obs = append(z.a.obs, observation{
					dim: "layout.line_length", value: lineBucket(n), nameNode: -1,
					rng: Range{Position{row, 0}, Position{row, len(line)}},
				})
			}
		}
		if j < 0 {
			break
		}
		off = end + 1
	}
	z.a.lineStarts = starts
	z.a.lines = len(starts)
	if len(src) > 0 && src[len(src)-1] == '\n' {
		z.a.lines--
	}
}

// longLine is the length from which lines are counted as long: below it
// every style agrees.
const longLine = 72

func lineBucket(n int) string {
	switch {
	case n <= 79:
		return "<=79"
	case n <= 88:
		return "<=88"
	case n <= 99:
		return "<=99"
	case n <= 119:
		return "<=119"
	}
	return ">119"
}

func lengthBucket(rows int) string {
	switch {
	case rows <= 10:
		return "1-10"
	case rows <= 25:
		return "11-25"
	case rows <= 50:
		return "26-50"
	case rows <= 100:
		return "51-100"
	}
	return ">100"
}

// fileFacts adds the per-file dimensions once the walk is done.
func (z *analyzer) fileFacts() {
	if len(z.n) == 0 || z.nonBlankLines == 0 {
		return
	}
	whole := Range{Position{0, 0}, Position{0, 0}}
	add := func(dim, value string, r Range) {
		z.a.obs = append(z.a.obs, observation{dim: dim, value: value, rng: r, nameNode: -1})
	}
	switch {
	case z.mainGuard:
		add("scripts.main_guard", "main_guard", whole)
	case z.topLevelCode >= 0:
		add("scripts.main_guard", "top_level_code", z.n[z.topLevelCode].rng())
	}
	ratio := float64(len(z.commentRows)) / float64(z.nonBlankLines)
	density := "high"
	switch {
	case len(z.commentRows) == 0:
		density = "none"
	case ratio < 0.05:
		density = "low"
	case ratio < 0.15:
		density = "medium"
	}
	add("comments.density", density, whole)
	cats := map[int]bool{}
	for _, im := range z.imports {
		cats[im.category] = true
	}
	if len(cats) >= 2 {
		maxCat := 0
		for _, im := range z.imports {
			if im.category < maxCat {
				add("imports.grouping", "mixed", z.n[im.node].rng())
				return
			}
			maxCat = im.category
		}
		add("imports.grouping", "grouped", z.n[z.imports[0].node].rng())
	}
}

// ---- helpers without a tree ----

// isMainGuard recognises `__name__ == "__main__"` in either order and quote.
func isMainGuard(cond []byte) bool {
	return bytes.Contains(cond, []byte("__name__")) &&
		(bytes.Contains(cond, []byte(`"__main__"`)) || bytes.Contains(cond, []byte(`'__main__'`)))
}

// declaresOtherEncoding reports a PEP 263 coding declaration naming an
// encoding other than UTF-8 in the first two lines.
func declaresOtherEncoding(src []byte) bool {
	head := src
	for n, k := 0, 0; k < len(src); k++ {
		if src[k] == '\n' {
			n++
			if n == 2 {
				head = src[:k]
				break
			}
		}
	}
	i := bytes.Index(head, []byte("coding"))
	if i < 0 || bytes.IndexByte(head[:i], '#') < 0 {
		return false
	}
	rest := head[i+len("coding"):]
	if len(rest) == 0 || (rest[0] != ':' && rest[0] != '=') {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t")
	end := 0
	for end < len(rest) && (rest[end] == '-' || rest[end] == '_' || rest[end] == '.' ||
		('a' <= rest[end]|0x20 && rest[end]|0x20 <= 'z') || ('0' <= rest[end] && rest[end] <= '9')) {
		end++
	}
	enc := strings.ToLower(strings.ReplaceAll(string(rest[:end]), "_", "-"))
	return enc != "" && enc != "utf-8" && enc != "utf8" && !strings.HasPrefix(enc, "utf-8-")
}

// firstInvalidUTF8 returns the offset of the first byte that is not valid
// UTF-8, or -1.
func firstInvalidUTF8(src []byte) int {
	if utf8.Valid(src) {
		return -1
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
