package paper

import (
	"regexp"
	"strings"
)

var (
	atxHeading   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdTag        = regexp.MustCompile(`\\tag\{([^}]*)\}`)
	mdEqNumber   = regexp.MustCompile(`\$\$\s*\(([0-9A-Za-z.]+)\)\s*$`)
	mdFootnoteRE = regexp.MustCompile(`^\[\^([^\]]{1,20})\]:\s*(.*)$`)
	tableRuleRE  = regexp.MustCompile(`^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$`)
	mdAlgoFence  = regexp.MustCompile(`(?i)^(algorithm|pseudo|pseudocode)\b`)
	mdAlgoHeader = regexp.MustCompile(`^(?:\*\*)?(Algorithm\s+\d+)(?:\*\*)?[:.]?\s*(.*)$`)
)

// parseMarkdown reads ATX headings ("## 3.2 Scaled Dot-Product Attention"),
// $$ display math (numbered by \tag{n} or a trailing "(n)"), pipe tables,
// fenced algorithm blocks and "Figure n:"/"Table n:" captions. A document
// whose only level-1 heading comes first uses it as the paper title.
func parseMarkdown(src string) *Paper {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	b := newBuilder("markdown")

	// The title is the first heading when it is the only one at its level
	// and the rest of the document uses deeper headings.
	minLevel, h1count, firstHeading := 7, 0, -1
	inFence := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") || strings.HasPrefix(strings.TrimSpace(l), "~~~") {
			inFence = !inFence
		}
		if m := atxHeading.FindStringSubmatch(l); m != nil && !inFence {
			if firstHeading < 0 {
				firstHeading = i
			}
			lv := len(m[1])
			if lv < minLevel {
				minLevel, h1count = lv, 0
			}
			if lv == minLevel {
				h1count++
			}
		}
	}
	titleLine := -1
	if firstHeading >= 0 && h1count == 1 {
		if m := atxHeading.FindStringSubmatch(lines[firstHeading]); len(m[1]) == minLevel {
			titleLine = firstHeading
			b.p.Title = strings.TrimSpace(m[2])
			minLevel = 7
			for i, l := range lines {
				if m := atxHeading.FindStringSubmatch(l); m != nil && i != titleLine && len(m[1]) < minLevel {
					minLevel = len(m[1])
				}
			}
		}
	}

	var para []string
	flush := func() {
		if len(para) > 0 {
			b.paragraph(strings.Join(para, "\n"))
			para = nil
		}
	}
	inAppendix := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case i == titleLine:
			flush()
		case strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~"):
			flush()
			fence, info := trim[:3], strings.TrimSpace(trim[3:])
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				body = append(body, lines[i])
			}
			code := strings.Join(body, "\n")
			if mdAlgoFence.MatchString(info) || algoTitleBefore(lines, i-len(body)-1) != "" {
				title := algoTitleBefore(lines, i-len(body)-1)
				b.algorithm(Block{Title: title, Text: code})
			} else {
				b.paragraph(fence + info + "\n" + code + "\n" + fence)
			}
		case atxHeading.MatchString(line):
			flush()
			m := atxHeading.FindStringSubmatch(line)
			text := stripMarkdownEmphasis(m[2])
			if strings.EqualFold(strings.TrimSpace(text), "appendix") || strings.HasPrefix(strings.ToLower(text), "appendix ") {
				inAppendix = true
			}
			num, title := splitNumber(text, inAppendix)
			level := len(m[1]) - minLevel + 1
			if d := numberDepth(num); d > 0 {
				level = d
			}
			b.heading(num, title, level, 0)
		case strings.HasPrefix(trim, "$$") && strings.Count(trim, "$$") >= 2:
			flush()
			inner := strings.TrimPrefix(trim, "$$")
			k := strings.Index(inner, "$$")
			b.equation(mdEquation(inner[:k], inner[k:]))
		case strings.HasPrefix(trim, "$$"):
			flush()
			body := []string{strings.TrimPrefix(trim, "$$")}
			closing := ""
			for i++; i < len(lines); i++ {
				t := strings.TrimSpace(lines[i])
				if k := strings.Index(t, "$$"); k >= 0 {
					body = append(body, t[:k])
					closing = t[k:]
					break
				}
				body = append(body, lines[i])
			}
			b.equation(mdEquation(strings.Join(body, "\n"), closing))
		case strings.HasPrefix(trim, `\begin{equation`) || strings.HasPrefix(trim, `\begin{align`):
			flush()
			env := envName(trim)
			var body []string
			for ; i < len(lines); i++ {
				body = append(body, lines[i])
				if strings.Contains(lines[i], `\end{`+env+`}`) {
					break
				}
			}
			for _, e := range latexEquations(env, strings.Join(body, "\n"), nil) {
				b.equation(e)
			}
		case strings.HasPrefix(trim, "|") && i+1 < len(lines) && tableRuleRE.MatchString(strings.TrimSpace(lines[i+1])):
			flush()
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				if tableRuleRE.MatchString(strings.TrimSpace(lines[i])) {
					continue
				}
				rows = append(rows, pipeCells(lines[i]))
			}
			i--
			b.table(Table{Caption: tableCaptionNear(lines, i, len(rows)), Rows: rows})
		case captionRE.MatchString(trim) && !mdAlgoHeader.MatchString(trim):
			flush()
			b.caption(stripMarkdownEmphasis(trim))
		case mdFootnoteRE.MatchString(trim):
			flush()
			m := mdFootnoteRE.FindStringSubmatch(trim)
			b.footnote(m[1] + " " + stripMarkdownEmphasis(m[2]))
		case trim == "":
			flush()
		case mdAlgoHeader.MatchString(trim) && nextIsFence(lines, i):
			flush() // the fence that follows carries the block
		default:
			para = append(para, line)
		}
	}
	flush()
	return b.finish()
}

func mdEquation(body, closing string) Equation {
	e := Equation{Text: strings.TrimSpace(body)}
	if m := mdTag.FindStringSubmatch(e.Text); m != nil {
		e.Number = m[1]
		e.Text = strings.TrimSpace(mdTag.ReplaceAllString(e.Text, ""))
	} else if m := mdEqNumber.FindStringSubmatch(closing); m != nil {
		e.Number = m[1]
	}
	return e
}

func pipeCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	parts := strings.Split(line, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// tableCaptionNear finds a "Table n:" caption on the nearest non-blank
// line above or below a table ending at line end with rows rows.
func tableCaptionNear(lines []string, end, rows int) string {
	start := end - rows // the rule line makes rows+1 lines
	for _, i := range []int{prevNonBlank(lines, start-1), nextNonBlank(lines, end+1)} {
		if i >= 0 && i < len(lines) {
			t := stripMarkdownEmphasis(strings.TrimSpace(lines[i]))
			if strings.HasPrefix(t, "Table") && captionRE.MatchString(t+" ") {
				return t
			}
		}
	}
	return ""
}

func prevNonBlank(lines []string, i int) int {
	for ; i >= 0 && strings.TrimSpace(lines[i]) == ""; i-- {
	}
	return i
}

func nextNonBlank(lines []string, i int) int {
	for ; i < len(lines) && strings.TrimSpace(lines[i]) == ""; i++ {
	}
	return i
}

func nextIsFence(lines []string, i int) bool {
	j := nextNonBlank(lines, i+1)
	return j < len(lines) && (strings.HasPrefix(strings.TrimSpace(lines[j]), "```") || strings.HasPrefix(strings.TrimSpace(lines[j]), "~~~"))
}

// algoTitleBefore returns "Algorithm 1: Name" when the line before a fence
// at index fence introduces an algorithm.
func algoTitleBefore(lines []string, fence int) string {
	j := prevNonBlank(lines, fence-1)
	if j < 0 {
		return ""
	}
	if m := mdAlgoHeader.FindStringSubmatch(strings.TrimSpace(lines[j])); m != nil {
		if t := strings.TrimSpace(stripMarkdownEmphasis(m[2])); t != "" {
			return m[1] + ": " + t
		}
		return m[1]
	}
	return ""
}

func stripMarkdownEmphasis(s string) string {
	s = strings.ReplaceAll(s, "**", "")
	s = strings.ReplaceAll(s, "__", "")
	return strings.TrimSpace(s)
}

func envName(line string) string {
	i := strings.Index(line, `\begin{`)
	rest := line[i+len(`\begin{`):]
	if j := strings.Index(rest, "}"); j >= 0 {
		return rest[:j]
	}
	return rest
}
