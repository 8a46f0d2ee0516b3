package trainer

import (
	"fmt"
	"strings"

	"github.com/r2c-ai/r2c/style"
)

// unit is one function, method or class of a file, cut out with the style
// engine's parser, with what an instruction needs to stand alone.
type unit struct {
	ID        string // repo:path:qualified-name, unique in a run
	Group     string // split key before near-duplicate clustering: a class and its methods share one
	Repo      string
	Path      string
	Kind      string // function, method, class
	Name      string // qualified: Class.method
	Code      string // dedented source of the unit, decorators included
	Signature string // the def/class header (decorators included), dedented
	Docstring string // the docstring literal as written, or ""
	Context   string // the file's imports, and the class header of a method
	StartLine int    // 0-based, inclusive, in the file
	EndLine   int
	Notebook  bool
	Score     float64
	Tokens    int
}

// extractUnits cuts a file into units. Units whose own text does not parse
// are counted as "syntax-error"; trivial ones (a body of pass, ..., a bare
// raise or return, or fewer than two statements' worth of lines) as
// "trivial".
func extractUnits(repo string, f *loadedFile, drops *counter) ([]*unit, error) {
	syms, err := style.Symbols(f.Src)
	if err != nil {
		return nil, err
	}
	src := string(f.Src)
	imports := importLines(src)
	classHeader := map[string]string{}
	seen := map[string]int{}
	var out []*unit
	for _, s := range syms {
		if s.StartByte < 0 || s.EndByte > len(src) || s.StartByte >= s.EndByte {
			continue
		}
		lineStart := strings.LastIndexByte(src[:s.StartByte], '\n') + 1
		code := dedent(src[lineStart:s.EndByte])
		sig, rest := splitHeader(code)
		if s.Kind == "class" {
			classHeader[s.Name] = firstDefLine(sig)
		}
		name := s.Name
		if s.Parent != "" {
			name = s.Parent + "." + s.Name
		}
		id := repo + ":" + f.Path + ":" + name
		seen[id]++
		if n := seen[id]; n > 1 {
			id = fmt.Sprintf("%s#%d", id, n)
		}
		group := id
		if s.Parent != "" {
			group = repo + ":" + f.Path + ":" + s.Parent
		}
		u := &unit{ID: id, Group: group, Repo: repo, Path: f.Path, Kind: s.Kind, Name: name, Code: code,
			Signature: sig, StartLine: s.StartLine, EndLine: s.EndLine, Notebook: f.Notebook}
		doc, body := splitDocstring(rest)
		u.Docstring = doc
		ctx := imports
		if s.Parent != "" && classHeader[s.Parent] != "" {
			if ctx != "" {
				ctx += "\n\n"
			}
			ctx += classHeader[s.Parent] + "\n    ..."
		}
		u.Context = ctx
		st, err := style.Stats([]byte(code))
		if err != nil || st.SyntaxErrors > 0 {
			drops.add("syntax-error", 1)
			continue
		}
		if isTrivial(body) {
			drops.add("trivial", 1)
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

// importLines returns the module's top-level import statements, the
// context a unit needs to be understood on its own.
func importLines(src string) string {
	var b strings.Builder
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "from ") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
		// a parenthesised or backslash-continued import spans lines
		open := strings.Count(l, "(") - strings.Count(l, ")")
		for (open > 0 || strings.HasSuffix(l, "\\")) && i+1 < len(lines) {
			i++
			l = strings.TrimRight(lines[i], "\r")
			b.WriteString(l)
			b.WriteByte('\n')
			open += strings.Count(l, "(") - strings.Count(l, ")")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// dedent removes the indentation common to all non-blank lines.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	// The first line starts at the definition (its indentation was cut
	// off with lineStart kept), so it takes part like the others.
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if min < 0 || n < min {
			min = n
		}
	}
	if min <= 0 {
		return strings.TrimRight(s, " \t\r\n")
	}
	for i, l := range lines {
		if len(l) >= min {
			lines[i] = l[min:]
		} else {
			lines[i] = strings.TrimLeft(l, " \t")
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\r\n")
}

// splitHeader splits dedented unit code after the def/class header: the
// decorators and the signature up to its closing colon. Brackets and string
// literals are tracked so that a colon in an annotation or default does not
// end the header.
func splitHeader(code string) (header, rest string) {
	// skip decorators: lines starting with @ (with their own brackets)
	i := 0
	for {
		j := strings.IndexByte(code[i:], '\n')
		line := code[i:]
		if j >= 0 {
			line = code[i : i+j]
		}
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async ") || strings.HasPrefix(t, "class ") || j < 0 {
			break
		}
		i += j + 1
	}
	depth := 0
	var quote byte
	for k := i; k < len(code); k++ {
		c := code[k]
		if quote != 0 {
			if c == '\\' {
				k++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '#':
			for k < len(code) && code[k] != '\n' {
				k++
			}
		case ':':
			if depth == 0 {
				end := strings.IndexByte(code[k:], '\n')
				if end < 0 {
					return code, ""
				}
				return code[:k+end], code[k+end+1:]
			}
		}
	}
	return code, ""
}

// firstDefLine is a class header without its decorators.
func firstDefLine(header string) string {
	for _, l := range strings.Split(header, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "class ") {
			return header[strings.Index(header, l):]
		}
	}
	return header
}

// splitDocstring takes the docstring literal from the start of a body, if
// there is one, and returns it (indentation removed) and the rest.
func splitDocstring(body string) (doc, rest string) {
	trimmed := strings.TrimLeft(body, " \t\r\n")
	p := 0
	for p < len(trimmed) && p < 2 && strings.ContainsRune("rRuUbB", rune(trimmed[p])) {
		p++
	}
	s := trimmed[p:]
	for _, q := range []string{`"""`, `'''`, `"`, `'`} {
		if !strings.HasPrefix(s, q) {
			continue
		}
		end := strings.Index(s[len(q):], q)
		if len(q) == 1 {
			nl := strings.IndexByte(s[1:], '\n')
			if end < 0 || (nl >= 0 && nl < end) {
				return "", body
			}
		}
		if end < 0 {
			return "", body
		}
		stop := p + len(q) + end + len(q)
		return dedent(trimmed[:stop]), trimmed[stop:]
	}
	return "", body
}

// isTrivial reports a body with nothing to learn from.
func isTrivial(body string) bool {
	var stmts []string
	for _, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		stmts = append(stmts, t)
	}
	if len(stmts) == 0 {
		return true
	}
	if len(stmts) == 1 {
		t := stmts[0]
		return t == "pass" || t == "..." || strings.HasPrefix(t, "raise NotImplementedError") ||
			t == "return" || t == "return None" || len(t) < 30
	}
	return false
}
