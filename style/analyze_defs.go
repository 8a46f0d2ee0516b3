package style

// Functions, classes, parameters, docstrings and the symbols for retrieval.

import (
	"bytes"
	"strings"
)

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
// A docstring without a colon holds neither reST fields nor a Google
// section, and one without "---" no NumPy underline: most docstrings are
// decided without being split into lines (this ran on every keystroke).
func docstringFormat(doc []byte) string {
	if bytes.IndexByte(doc, ':') < 0 && !bytes.Contains(doc, []byte("---")) {
		return "plain"
	}
	s := string(doc)
	switch {
	case strings.Contains(s, ":param") || strings.Contains(s, ":return") || strings.Contains(s, ":rtype") ||
		strings.Contains(s, ":raises") || strings.Contains(s, ":type "):
		return "rest"
	case strings.Contains(s, "---") && numpySection(s):
		return "numpy"
	case strings.IndexByte(s, ':') >= 0 && googleSection(s):
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
