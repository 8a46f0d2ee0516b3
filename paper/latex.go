package paper

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// mathEnvs are the display-math environments; starred forms are unnumbered.
var mathEnvs = map[string]bool{
	"equation": true, "equation*": true, "align": true, "align*": true,
	"gather": true, "gather*": true, "multline": true, "multline*": true,
	"eqnarray": true, "eqnarray*": true, "flalign": true, "flalign*": true,
	"displaymath": true, "math": false,
}

// multiRowEnvs number each row (split at \\) rather than the whole block.
var multiRowEnvs = map[string]bool{"align": true, "gather": true, "eqnarray": true, "flalign": true}

var (
	latexSpecial   = regexp.MustCompile(`\\(?:sub){0,2}section\*?\s*(?:\[[^\]]*\])?\s*\{|\\begin\s*\{|\\\[|\$\$|\\caption\s*(?:\[[^\]]*\])?\{|\\(?:input|include)\s*\{|\\appendix\b|\\bibliography\s*\{|\\paragraph\*?\s*\{`)
	labelRE        = regexp.MustCompile(`\\label\s*\{([^}]*)\}`)
	tagRE          = regexp.MustCompile(`\\tag\*?\s*\{([^}]*)\}`)
	nonumberRE     = regexp.MustCompile(`\\(?:nonumber|notag)\b`)
	refRE          = regexp.MustCompile(`\\(eq|auto|c|C)?ref\s*\{([^}]*)\}`)
	citeRE         = regexp.MustCompile(`\\cite[pt]?\*?\s*(?:\[[^\]]*\])*\s*\{([^}]*)\}`)
	hruleRE        = regexp.MustCompile(`\\(?:hline|toprule|midrule|bottomrule|cline\{[^}]*\}|cmidrule(?:\([^)]*\))?\{[^}]*\})`)
	cmdArgRE       = regexp.MustCompile(`\\(?:textbf|textit|emph|texttt|textsc|textrm|textsf|underline|mbox|footnote|url|text|mathrm|mathbf)\s*\{`)
	dropCmdRE      = regexp.MustCompile(`\\(?:maketitle|centering|noindent|small|footnotesize|scriptsize|large|Large|LARGE|normalsize|vspace\*?\{[^}]*\}|hspace\*?\{[^}]*\}|newpage|clearpage|medskip|smallskip|bigskip|par|item(?:\[[^\]]*\])?|tableofcontents|thispagestyle\{[^}]*\}|pagestyle\{[^}]*\}|bibliographystyle\{[^}]*\}|includegraphics(?:\[[^\]]*\])?\{[^}]*\}|label\{[^}]*\}|end\{[^}]*\}|begin\{[^}]*\}(?:\{[^}]*\})?)`)
	refPlaceholder = regexp.MustCompile("\x01(\\w*)\x02([^\x03]*)\x03")
	otherCmdRE     = regexp.MustCompile(`\\[a-zA-Z]+\*?`)
)

// latexState carries numbering across the parse.
type latexState struct {
	b          *builder
	sec        [3]int
	appendix   bool
	eq         int
	tables     int
	figures    int
	algorithms int
	labels     map[string]string
	// src is the text walk started from and envs its environments
	// matched once up front (see indexEnvs).
	src  string
	envs map[int]envSpan
}

// parseLaTeX reads a LaTeX source: \title, the abstract environment,
// \section/\subsection/\subsubsection (numbered as LaTeX would, letters
// after \appendix), display math with equation numbers from LaTeX's own
// counter or \tag, tabular environments as rows of cells, algorithm
// environments and thebibliography. \input and \include are not followed;
// each is recorded in Paper.Notes.
func parseLaTeX(src string) *Paper {
	src = stripLaTeXComments(strings.ReplaceAll(src, "\r\n", "\n"))
	src = stripDisabled(src)
	st := &latexState{b: newBuilder("latex"), labels: map[string]string{}}
	if body, ok := braceArg(src, `\title`); ok {
		st.b.p.Title = cleanLaTeX(removeCommand(strings.ReplaceAll(body, `\\`, " "), `\thanks`))
	}
	if i := strings.Index(src, `\begin{document}`); i >= 0 {
		src = src[i+len(`\begin{document}`):]
	}
	if i := strings.Index(src, `\end{document}`); i >= 0 {
		src = src[:i]
	}
	if a, rest, ok := cutEnv(src, "abstract"); ok {
		st.b.p.Abstract = joinParagraphs(cleanLaTeX(a))
		src = rest
	}
	st.walk(src)
	p := st.b.finish()
	// \ref targets may be defined after their use: resolve at the end.
	resolve := func(s string) string {
		return refPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
			sub := refPlaceholder.FindStringSubmatch(m)
			if n, ok := st.labels[sub[2]]; ok {
				if sub[1] == "eq" {
					return "(" + n + ")"
				}
				return n
			}
			return "??"
		})
	}
	p.Abstract = resolve(p.Abstract)
	p.Walk(func(s *Section) {
		s.Text = resolve(s.Text)
		for i := range s.Captions {
			s.Captions[i] = resolve(s.Captions[i])
		}
		for i := range s.Body {
			s.Body[i].Text = resolve(s.Body[i].Text)
		}
		for i := range s.Tables {
			s.Tables[i].Caption = resolve(s.Tables[i].Caption)
		}
		for i := range s.Footnotes {
			s.Footnotes[i] = resolve(s.Footnotes[i])
		}
	})
	return p
}

// extractFootnotes takes each \footnote{...} (braces balanced) out of a
// paragraph, so a footnote is never read inside the sentence it marks.
func extractFootnotes(para string) (string, []string) {
	const cmd = `\footnote{`
	var notes []string
	for {
		i := strings.Index(para, cmd)
		if i < 0 {
			return para, notes
		}
		depth, j := 1, i+len(cmd)
		for ; j < len(para) && depth > 0; j++ {
			switch para[j] {
			case '{':
				depth++
			case '}':
				depth--
			case '\\':
				j++ // an escaped brace
			}
		}
		if depth > 0 {
			return para, notes // unbalanced: leave it to cleanLaTeX
		}
		notes = append(notes, para[i+len(cmd):j-1])
		para = para[:i] + para[j:]
	}
}

// walk scans body text, turning the constructs latexSpecial finds into
// builder events and the prose between them into paragraphs.
func (st *latexState) walk(src string) {
	st.src, st.envs = src, indexEnvs(src)
	var prose strings.Builder
	flush := func() {
		for _, para := range splitBlank(prose.String()) {
			para, notes := extractFootnotes(para)
			if t := cleanLaTeX(para); t != "" {
				st.b.paragraph(joinParagraphs(t))
			}
			for _, n := range notes {
				st.b.footnote(joinParagraphs(cleanLaTeX(n)))
			}
		}
		prose.Reset()
	}
	for len(src) > 0 {
		loc := latexSpecial.FindStringIndex(src)
		if loc == nil {
			prose.WriteString(src)
			break
		}
		prose.WriteString(src[:loc[0]])
		tok := src[loc[0]:loc[1]]
		rest := src[loc[1]:]
		switch {
		case strings.HasPrefix(tok, `\section`), strings.HasPrefix(tok, `\subsection`), strings.HasPrefix(tok, `\subsubsection`):
			flush()
			title, after := balanced(rest)
			level := 1 + strings.Count(tok[:strings.Index(tok, "section")], "sub")
			num := ""
			if !strings.Contains(tok, "*") {
				num = st.nextSection(level)
			}
			var label string
			after, label = leadingLabel(after)
			if label != "" && num != "" {
				st.labels[label] = num
			}
			st.b.heading(num, cleanLaTeX(title), level, 0)
			src = after
			continue
		case strings.HasPrefix(tok, `\paragraph`):
			// Run-in paragraph headings stay in the prose, in bold.
			title, after := balanced(rest)
			prose.WriteString("\n\n**" + title + "** ")
			src = after
			continue
		case tok == `\appendix`:
			st.appendix, st.sec = true, [3]int{}
		case strings.HasPrefix(tok, `\input`), strings.HasPrefix(tok, `\include`):
			name, after := balanced(rest)
			st.b.p.Notes = append(st.b.p.Notes, fmt.Sprintf("%s{%s} was not followed: load the merged source or the PDF to include it", strings.TrimSpace(tok[:len(tok)-1]), name))
			src = after
			continue
		case strings.HasPrefix(tok, `\bibliography`):
			name, after := balanced(rest)
			st.b.p.Notes = append(st.b.p.Notes, fmt.Sprintf("references come from %s.bib, which is not read; the PDF lists them", name))
			src = after
			continue
		case strings.HasPrefix(tok, `\caption`):
			flush()
			c, after := balanced(rest)
			st.b.caption(cleanLaTeX(c))
			src = after
			continue
		case tok == `\[` || tok == `$$`:
			flush()
			end := `\]`
			if tok == `$$` {
				end = `$$`
			}
			body, after, _ := strings.Cut(rest, end)
			st.b.equation(Equation{Text: strings.TrimSpace(body)})
			src = after
			continue
		case strings.HasPrefix(tok, `\begin`):
			env, after := balanced(rest)
			body, after2, ok := st.envBody(after, env)
			if !ok {
				src = after // unbalanced: keep going with the inside as prose
				continue
			}
			switch {
			case mathEnvs[env]:
				flush()
				for _, e := range st.equations(env, body) {
					st.b.equation(e)
				}
			case strings.HasPrefix(env, "table"):
				flush()
				st.tableFloat(body)
			case env == "tabular" || env == "tabular*" || env == "tabularx":
				flush()
				st.b.table(Table{Rows: tabularRows(body)})
			case strings.HasPrefix(env, "algorithm"):
				flush()
				st.algorithm(env, body)
			case strings.HasPrefix(env, "figure"):
				flush()
				st.figures++
				if c, ok := braceArg(body, `\caption`); ok {
					st.b.caption(fmt.Sprintf("Figure %d: %s", st.figures, cleanLaTeX(c)))
				}
			case env == "thebibliography":
				flush()
				st.bibliography(body)
			default:
				// Lists, theorems, centering: the contents are prose.
				prose.WriteString("\n")
				src = after
				continue
			}
			src = after2
			continue
		}
		src = rest
	}
	flush()
}

// nextSection steps LaTeX's section counters and formats the number.
func (st *latexState) nextSection(level int) string {
	i := min(level, 3) - 1
	st.sec[i]++
	for j := i + 1; j < len(st.sec); j++ {
		st.sec[j] = 0
	}
	var parts []string
	for j := 0; j <= i; j++ {
		if j == 0 && st.appendix {
			parts = append(parts, string(rune('A'+st.sec[0]-1)))
			continue
		}
		parts = append(parts, strconv.Itoa(st.sec[j]))
	}
	return strings.Join(parts, ".")
}

// equations numbers a display environment the way LaTeX does: one number
// per row in align-like environments (unless \nonumber), one per block
// otherwise, none when starred; \tag overrides.
func (st *latexState) equations(env, body string) []Equation {
	return latexEquations(env, body, func(label string) string {
		st.eq++
		n := strconv.Itoa(st.eq)
		if label != "" {
			st.labels[label] = n
		}
		return n
	})
}

// latexEquations splits a math environment into equations; next assigns
// the next automatic number (nil: never numbered, e.g. in Markdown, where
// only \tag gives a number).
func latexEquations(env, body string, next func(label string) string) []Equation {
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, `\begin{`+env+`}`) {
		body = strings.TrimPrefix(body, `\begin{`+env+`}`)
		body, _, _ = strings.Cut(body, `\end{`+env+`}`)
	}
	starred := strings.HasSuffix(env, "*") || env == "displaymath"
	rows := []string{body}
	if multiRowEnvs[strings.TrimSuffix(env, "*")] {
		rows = splitRows(body)
	}
	var out []Equation
	for _, row := range rows {
		if strings.TrimSpace(labelRE.ReplaceAllString(row, "")) == "" {
			continue
		}
		e := Equation{}
		label := ""
		if m := labelRE.FindStringSubmatch(row); m != nil {
			label = m[1]
		}
		switch m := tagRE.FindStringSubmatch(row); {
		case m != nil:
			e.Number = m[1]
		case !starred && !nonumberRE.MatchString(row) && next != nil:
			e.Number = next(label)
		}
		row = tagRE.ReplaceAllString(row, "")
		row = labelRE.ReplaceAllString(row, "")
		row = nonumberRE.ReplaceAllString(row, "")
		if len(rows) > 1 || multiRowEnvs[strings.TrimSuffix(env, "*")] {
			// An align row stands alone in a prompt: drop its alignment tabs.
			row = alignTabRE.ReplaceAllString(row, "$1")
		}
		e.Text = strings.TrimSpace(row)
		out = append(out, e)
	}
	return out
}

// splitRows splits at top-level \\ (not inside braces).
func splitRows(s string) []string {
	var rows []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '\\':
			if depth == 0 && i+1 < len(s) && s[i+1] == '\\' {
				rows = append(rows, s[start:i])
				i++
				start = i + 1
			} else {
				i++ // skip the escaped character
			}
		}
	}
	return append(rows, s[start:])
}

func (st *latexState) tableFloat(body string) {
	st.tables++
	t := Table{}
	if c, ok := braceArg(body, `\caption`); ok {
		t.Caption = fmt.Sprintf("Table %d: %s", st.tables, cleanLaTeX(c))
	}
	if m := labelRE.FindStringSubmatch(body); m != nil {
		st.labels[m[1]] = strconv.Itoa(st.tables)
	}
	for _, env := range []string{"tabular", "tabular*", "tabularx"} {
		if i := strings.Index(body, `\begin{`+env+`}`); i >= 0 {
			_, after := balanced(body[i+len(`\begin{`+env+`}`)-1:])
			if inner, _, ok := cutEnvBody(after, env); ok {
				t.Rows = tabularRows(inner)
			}
			break
		}
	}
	st.b.table(t)
	st.b.caption(t.Caption)
}

// tabularRows turns a tabular body (after its column spec) into rows of
// cleaned cells, dropping rules.
func tabularRows(body string) [][]string {
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, "{") { // the column spec when still present
		_, body = balanced(body[1:])
	}
	body = hruleRE.ReplaceAllString(body, "")
	var rows [][]string
	for _, row := range splitRows(body) {
		if strings.TrimSpace(row) == "" {
			continue
		}
		var cells []string
		for _, c := range splitCells(row) {
			c = multicolRE.ReplaceAllString(c, "$1")
			cells = append(cells, cleanLaTeX(c))
		}
		rows = append(rows, cells)
	}
	return rows
}

var alignTabRE = regexp.MustCompile(`(^|[^\\])&`)

var multicolRE = regexp.MustCompile(`\\multi(?:column|row)\{[^}]*\}\{[^}]*\}\{([^}]*)\}`)

func splitCells(row string) []string {
	var cells []string
	depth, start := 0, 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '\\':
			i++
		case '&':
			if depth == 0 {
				cells = append(cells, row[start:i])
				start = i + 1
			}
		}
	}
	return append(cells, row[start:])
}

var algoCmds = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\\(?:State|STATE|Statex)\b\s*`), "\n"},
	{regexp.MustCompile(`\\(?:Require|REQUIRE)\b\s*`), "\nRequire: "},
	{regexp.MustCompile(`\\(?:Ensure|ENSURE)\b\s*`), "\nEnsure: "},
	{regexp.MustCompile(`\\(?:For|FOR|ForAll|FORALL)\s*\{((?:[^{}]|\{[^{}]*\})*)\}`), "\nfor $1 do"},
	{regexp.MustCompile(`\\(?:While|WHILE)\s*\{((?:[^{}]|\{[^{}]*\})*)\}`), "\nwhile $1 do"},
	{regexp.MustCompile(`\\(?:If|IF)\s*\{((?:[^{}]|\{[^{}]*\})*)\}`), "\nif $1 then"},
	{regexp.MustCompile(`\\(?:ElsIf|ELSIF)\s*\{((?:[^{}]|\{[^{}]*\})*)\}`), "\nelse if $1 then"},
	{regexp.MustCompile(`\\(?:Else|ELSE)\b`), "\nelse"},
	{regexp.MustCompile(`\\(?:EndFor|ENDFOR)\b`), "\nend for"},
	{regexp.MustCompile(`\\(?:EndWhile|ENDWHILE)\b`), "\nend while"},
	{regexp.MustCompile(`\\(?:EndIf|ENDIF)\b`), "\nend if"},
	{regexp.MustCompile(`\\(?:Return|RETURN)\b`), "return"},
	{regexp.MustCompile(`\\(?:Comment|COMMENT)\s*\{((?:[^{}]|\{[^{}]*\})*)\}`), " ▷ $1"},
}

func (st *latexState) algorithm(env string, body string) {
	st.algorithms++
	title := fmt.Sprintf("Algorithm %d", st.algorithms)
	if c, ok := braceArg(body, `\caption`); ok {
		title += ": " + cleanLaTeX(c)
	}
	inner := body
	for _, e := range []string{"algorithmic", "algorithmicx", "algpseudocode"} {
		if i := strings.Index(body, `\begin{`+e+`}`); i >= 0 {
			rest := body[i+len(`\begin{`+e+`}`):]
			if strings.HasPrefix(rest, "[") {
				_, rest, _ = strings.Cut(rest, "]")
			}
			if in, _, ok := cutEnvBody(rest, e); ok {
				inner = in
			}
			break
		}
	}
	inner = removeCommand(inner, `\caption`)
	for _, c := range algoCmds {
		inner = c.re.ReplaceAllString(inner, c.repl)
	}
	var lines []string
	for _, l := range strings.Split(inner, "\n") {
		if l = strings.Join(strings.Fields(cleanLaTeXKeepMath(l)), " "); l != "" {
			lines = append(lines, l)
		}
	}
	st.b.algorithm(Block{Title: title, Text: strings.Join(lines, "\n")})
}

func (st *latexState) bibliography(body string) {
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		_, body = balanced(strings.TrimSpace(body)[1:])
	}
	parts := strings.Split(body, `\bibitem`)
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, "[") {
			_, p, _ = strings.Cut(p, "]")
		}
		if strings.HasPrefix(strings.TrimSpace(p), "{") {
			_, p = balanced(strings.TrimSpace(p)[1:])
		}
		p = strings.ReplaceAll(p, `\newblock`, " ")
		st.b.reference(cleanLaTeX(p))
	}
}

// --- small LaTeX helpers ---

func stripLaTeXComments(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		for j := 0; j < len(l); j++ {
			if l[j] == '\\' {
				j++
				continue
			}
			if l[j] == '%' {
				lines[i] = l[:j]
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

var ifTokenRE = regexp.MustCompile(`\\if[a-zA-Z@]*|\\fi\b`)

// stripDisabled removes text authors switched off: \iffalse ... \fi
// (nested conditionals counted) and comment environments.
func stripDisabled(s string) string {
	// One pass over the conditionals: removing each \iffalse block with a
	// fresh search of the rest was quadratic in their number.
	var b strings.Builder
	last, depth, start := 0, 0, 0
	for _, loc := range ifTokenRE.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		switch {
		case depth == 0 && tok == `\iffalse`:
			depth, start = 1, loc[0]
		case depth == 0:
		case tok == `\fi`:
			if depth--; depth == 0 {
				b.WriteString(s[last:start])
				last = loc[1]
			}
		default:
			depth++
		}
	}
	if depth > 0 { // an \iffalse never closed disables the rest
		b.WriteString(s[last:start])
	} else {
		b.WriteString(s[last:])
	}
	s = b.String()
	if !strings.Contains(s, `\begin{comment}`) {
		return s
	}
	// Comment environments, outermost ones, also in one pass; an unclosed
	// one and everything after it are kept, as LaTeX would complain there.
	var kept strings.Builder
	last = 0
	for _, span := range outerSpans(indexEnvs(s), s, "comment") {
		kept.WriteString(s[last:span.begin])
		last = span.after
	}
	kept.WriteString(s[last:])
	return kept.String()
}

// outerSpan is an environment from its \begin tag to after its \end tag.
type outerSpan struct{ begin, after int }

// outerSpans lists the outermost closed environments named env in s, in
// order, up to the first unclosed one.
func outerSpans(spans map[int]envSpan, s, env string) []outerSpan {
	tag := `\begin{` + env + `}`
	var out []outerSpan
	for i := 0; ; {
		j := strings.Index(s[i:], tag)
		if j < 0 {
			return out
		}
		open := i + j
		span := spans[open+len(tag)]
		if !span.ok {
			return out
		}
		out = append(out, outerSpan{open, span.after})
		i = span.after
	}
}

// balanced takes s just after an opening brace and returns the contents up
// to the matching close brace and what follows it.
func balanced(s string) (inside, after string) {
	depth := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// braceArg finds cmd{...} in s and returns its balanced argument.
func braceArg(s, cmd string) (string, bool) {
	i := strings.Index(s, cmd+"{")
	if i < 0 {
		if i = strings.Index(s, cmd+"["); i < 0 {
			return "", false
		}
		j := strings.Index(s[i:], "]{")
		if j < 0 {
			return "", false
		}
		in, _ := balanced(s[i+j+2:])
		return in, true
	}
	in, _ := balanced(s[i+len(cmd)+1:])
	return in, true
}

// removeCommand deletes every cmd{...} (with its argument) from s.
func removeCommand(s, cmd string) string {
	for {
		i := strings.Index(s, cmd)
		if i < 0 {
			return s
		}
		rest := s[i+len(cmd):]
		if strings.HasPrefix(rest, "[") {
			_, rest, _ = strings.Cut(rest, "]")
		}
		if !strings.HasPrefix(rest, "{") {
			s = s[:i] + rest
			continue
		}
		_, after := balanced(rest[1:])
		s = s[:i] + after
	}
}

// cutEnv returns the body of the first \begin{env}...\end{env} and s with
// that environment removed.
func cutEnv(s, env string) (body, rest string, ok bool) {
	open := `\begin{` + env + `}`
	i := strings.Index(s, open)
	if i < 0 {
		return "", s, false
	}
	b, after, ok := cutEnvBody(s[i+len(open):], env)
	if !ok {
		return "", s, false
	}
	return b, s[:i] + after, true
}

// cutEnvBody splits s (just after \begin{env}) at the matching \end{env},
// counting nested environments of the same name.
func cutEnvBody(s, env string) (body, after string, ok bool) {
	open, closeTag := `\begin{`+env+`}`, `\end{`+env+`}`
	depth, i := 1, 0
	for {
		c := strings.Index(s[i:], closeTag)
		if c < 0 {
			return "", "", false
		}
		o := strings.Index(s[i:], open)
		if o >= 0 && o < c {
			depth++
			i += o + len(open)
			continue
		}
		depth--
		if depth == 0 {
			return s[:i+c], s[i+c+len(closeTag):], true
		}
		i += c + len(closeTag)
	}
}

// envSpan locates the matching \end{env} of one \begin{env}: the offsets
// where it starts and ends; ok is false for a \begin never closed.
type envSpan struct {
	end, after int
	ok         bool
}

var envTagRE = regexp.MustCompile(`\\(begin|end)\s*\{([^{}\\]*)\}`)

// indexEnvs matches every \begin{env} with its \end{env} in one pass,
// keyed by the offset just after the \begin tag. Searching for the end
// of each environment as it was met cost a scan of the rest of the file
// per unclosed \begin: seconds for a few hundred kilobytes of them.
func indexEnvs(src string) map[int]envSpan {
	open := map[string][]int{}
	spans := map[int]envSpan{}
	for _, m := range envTagRE.FindAllStringSubmatchIndex(src, -1) {
		env := src[m[4]:m[5]]
		if src[m[2]:m[3]] == "begin" {
			open[env] = append(open[env], m[1])
			spans[m[1]] = envSpan{}
			continue
		}
		if stack := open[env]; len(stack) > 0 {
			spans[stack[len(stack)-1]] = envSpan{m[0], m[1], true}
			open[env] = stack[:len(stack)-1]
		}
	}
	return spans
}

// envBody is cutEnvBody for s, the text just after a \begin{env} tag in
// the text walk started from, answered from the index.
func (st *latexState) envBody(s, env string) (body, after string, ok bool) {
	at := len(st.src) - len(s)
	span, indexed := st.envs[at]
	if at < 0 || !indexed || !strings.HasPrefix(st.src[at:], s[:min(len(s), 64)]) {
		return cutEnvBody(s, env) // not a tag the index knows
	}
	if !span.ok {
		return "", "", false
	}
	return st.src[at:span.end], st.src[span.after:], true
}

// leadingLabel takes a \label{...} right after a heading.
func leadingLabel(s string) (rest, label string) {
	t := strings.TrimLeft(s, " \t\n")
	if m := labelRE.FindStringSubmatchIndex(t); m != nil && m[0] == 0 {
		return t[m[1]:], t[m[2]:m[3]]
	}
	return s, ""
}

func splitBlank(s string) []string {
	return regexp.MustCompile(`\n[ \t]*\n`).Split(s, -1)
}

func joinParagraphs(s string) string {
	var out []string
	for _, p := range splitBlank(s) {
		if f := strings.Join(strings.Fields(p), " "); f != "" {
			out = append(out, f)
		}
	}
	return strings.Join(out, "\n\n")
}

var textReplacer = strings.NewReplacer("~", " ", `\%`, "%", `\&`, "&", `\_`, "_", `\#`, "#", `\$`, "$", "``", "\u201c", "''", "\u201d", "---", "\u2014", "--", "\u2013", `\,`, " ", `\ `, " ", `\\`, "\n")

// cleanLaTeX turns LaTeX prose into plain text, keeping inline math as
// $...$ (models read LaTeX math well) and citations as [key].
func cleanLaTeX(s string) string {
	var b strings.Builder
	parts := splitInlineMath(s)
	for i, part := range parts {
		if i%2 == 1 {
			b.WriteString("$" + strings.TrimSpace(part) + "$")
			continue
		}
		// Keep the spaces that separate prose from the math around it.
		if strings.TrimLeft(part, " \t\n") != part && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(cleanProse(part))
		if strings.TrimRight(part, " \t\n") != part && i < len(parts)-1 {
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

func cleanLaTeXKeepMath(s string) string { return cleanLaTeX(s) }

func cleanProse(s string) string {
	s = citeRE.ReplaceAllString(s, "[$1]")
	// \ref targets may be defined later: leave a placeholder resolved
	// after the parse.
	s = refRE.ReplaceAllString(s, "\x01$1\x02$2\x03")
	s = dropCmdRE.ReplaceAllString(s, " ")
	// Keep the argument of formatting commands; drop other command names.
	s = cmdArgRE.ReplaceAllString(s, "{")
	s = otherCmdRE.ReplaceAllString(s, "")
	s = textReplacer.Replace(s)
	s = strings.NewReplacer("{", "", "}", "").Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// splitInlineMath splits at unescaped single $: odd elements are math.
func splitInlineMath(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '$' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	if len(parts)%2 == 0 { // unbalanced: treat the tail as prose
		last := parts[len(parts)-1]
		parts = parts[:len(parts)-1]
		parts[len(parts)-1] += "$" + last
	}
	return parts
}
