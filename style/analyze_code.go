package style

// Strings, calls, imports, control flow and the names bound by assignments.

import (
	"bytes"
	"strings"
)

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
