package paper

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	loneNumberRE = regexp.MustCompile(`^(?:\d{1,2}(?:\.\d{1,2}){0,3}|[A-Z](?:\.\d{1,2}){0,3})$`)
	textEqRE     = regexp.MustCompile(`^(.*[=≤≥<>∑∫].*?)\s+\((\d{1,3}(?:\.\d{1,3})?[a-z]?)\)$`)
)

// parseText is the fallback for plain text (including pdftotext output):
// the first line is the title, "Abstract" and "References" lines start
// those parts, and short numbered lines ("3.2 Attention") are headings when
// their numbers follow on from the previous heading.
func parseText(src string) *Paper {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	b := newBuilder("text")
	vocab := vocabulary{}
	for _, l := range lines {
		vocab.add(l)
	}
	var para []string
	flush := func() {
		if len(para) > 0 && b.mode == modeRefs {
			b.paragraph(strings.Join(para, "\n")) // one entry per "[n]" line
			para = nil
		} else if len(para) > 0 {
			b.paragraph(vocab.dehyphenate(para))
			para = nil
		}
	}
	title := true
	last := ""
	inAppendix := false
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		// pdftotext prints a heading's number and title as separate
		// paragraphs ("2.1", "", "Self-Attention"): put them back together.
		if loneNumberRE.MatchString(t) {
			j := nextNonBlank(lines, i+1)
			if k := nextNonBlank(lines, j+1); j < len(lines) && k < len(lines) && k-j <= 2 && pageNumberRE.MatchString(strings.TrimSpace(lines[j])) && !loneNumberRE.MatchString(strings.TrimSpace(lines[k])) {
				j = k // a running page number printed between the two
			}
			if j < len(lines) && j-i <= 4 {
				if title := strings.TrimSpace(lines[j]); title != "" && len(title) < 90 && !strings.HasSuffix(title, ".") && textHeadingNumber(t+" "+title) != "" {
					t = t + " " + title
					i = j
				}
			}
		}
		switch {
		case t == "":
			flush()
		case title:
			b.p.Title = t
			title = false
		case isReferencesTitle(t) || isAbstractTitle(t):
			flush()
			b.heading("", t, 1, 0)
		case strings.EqualFold(t, "appendix") || strings.EqualFold(t, "appendices"):
			flush()
			inAppendix = true
		case textHeadingNumber(t) != "" && plausibleNext(last, textHeadingNumber(t), inAppendix):
			flush()
			num, name, _ := SplitHeading(t, true)
			b.heading(num, name, numberDepth(num), 0)
			last = num
		case textEqRE.MatchString(t):
			flush()
			m := textEqRE.FindStringSubmatch(t)
			b.equation(Equation{Number: m[2], Text: strings.TrimSpace(m[1])})
		case captionRE.MatchString(t):
			flush()
			b.caption(t)
		default:
			para = append(para, t)
		}
	}
	flush()
	return b.finish()
}

// textHeadingNumber is the number of a plain-text heading line: a
// SplitHeading heading with a capitalised title of at most 90 characters
// that does not end in a full stop; "" otherwise.
func textHeadingNumber(t string) string {
	num, title, ok := SplitHeading(t, true)
	if r, _ := utf8.DecodeRuneInString(title); !ok || len(title) > 90 || strings.HasSuffix(t, ".") || !unicode.IsUpper(r) {
		return ""
	}
	return num
}

// plausibleNext reports whether number can follow the previous heading
// number prev: "3" after "2.4", "2.5" after "2.4", "2.4.1" after "2.4",
// "1" first. It keeps numbered list items and stray numbers out of the
// section tree. Appendix letters are accepted inside an appendix or right
// after a numbered section when they start at "A".
func plausibleNext(prev, number string, inAppendix bool) bool {
	number = strings.TrimSuffix(number, ".")
	parts := strings.Split(number, ".")
	if prev == "" {
		return number == "1" || number == "1.1" || inAppendix && parts[0] == "A"
	}
	pp := strings.Split(prev, ".")
	letter := func(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }
	if letter(parts[0]) && !letter(pp[0]) {
		return number == "A" || number == "A.1"
	}
	// The new number must equal prev's prefix of some length k with the
	// last component incremented by one, or extend prev by ".1".
	if len(parts) == len(pp)+1 && strings.Join(parts[:len(pp)], ".") == prev && parts[len(parts)-1] == "1" {
		return true
	}
	for k := 1; k <= len(pp) && k <= len(parts); k++ {
		if len(parts) != k {
			continue
		}
		if strings.Join(parts[:k-1], ".") != strings.Join(pp[:k-1], ".") {
			continue
		}
		if succ(pp[k-1]) == parts[k-1] {
			return true
		}
	}
	return false
}

// succ is the next section number component: "3" → "4", "A" → "B".
func succ(s string) string {
	if len(s) == 1 && s[0] >= 'A' && s[0] < 'Z' {
		return string(s[0] + 1)
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return ""
		}
		n = n*10 + int(c-'0')
	}
	return itoa(n + 1)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// compoundPrefixes are first halves of hyphenated compounds common in ML
// papers ("self-attention", "fine-tuning", "zero-shot"): a line break after
// one keeps its hyphen. They are not syllables TeX would break a word at.
var compoundPrefixes = map[string]bool{
	"self": true, "multi": true, "non": true, "fine": true, "few": true, "zero": true, "one": true,
	"two": true, "low": true, "high": true, "cross": true, "end": true, "semi": true, "state": true,
	"large": true, "small": true, "long": true, "short": true, "top": true, "task": true, "open": true,
	"real": true, "data": true, "sequence": true, "token": true, "layer": true, "left": true, "right": true,
	"single": true, "well": true, "half": true, "full": true, "mixture": true, "in": false,
}

// dehyphenate joins wrapped lines into one paragraph, undoing end-of-line
// hyphenation ("repre-" + "sentation") when the next line starts in lower
// case, except after a compound's first half ("self-" + "attention").
func dehyphenate(lines []string) string { return vocabulary(nil).dehyphenate(lines) }

// vocabulary counts a document's words (lower case, hyphenated compounds
// as written), so that a line-end hyphen is resolved by the document
// itself: "pre-" + "training" stays "pre-training" in a paper that writes
// "pre-training" elsewhere, and "repre-" + "sentation" joins because
// "representation" occurs. Without evidence the compound-prefix rule
// decides.
type vocabulary map[string]int

// add counts the words of one line; a word cut at the line end is not a
// word.
func (v vocabulary) add(line string) {
	for _, f := range strings.Fields(line) {
		w := strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' }))
		if w != "" && !strings.HasSuffix(w, "-") && !strings.HasPrefix(w, "-") {
			v[w]++
		}
	}
}

// keepHyphen decides "head-" + "tail" at a line end.
func (v vocabulary) keepHyphen(head, tail string) bool {
	joined, hyph := strings.ToLower(head+tail), strings.ToLower(head+"-"+tail)
	switch {
	case v[hyph] > v[joined]:
		return true
	case v[joined] > 0:
		return false
	}
	return compoundPrefixes[strings.ToLower(head)]
}

// softHyphen is U+00AD, which marks where a word may break; a PDF draws
// it at the end of the line it broke.
const softHyphen = "\u00ad"

func (v vocabulary) dehyphenate(lines []string) string {
	var b strings.Builder
	joined := false // the previous line's hyphen was removed: no space
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, softHyphen) || strings.HasSuffix(l, "\u2010") {
			l = strings.TrimSuffix(strings.TrimSuffix(l, softHyphen), "\u2010") + "-"
		}
		l = strings.ReplaceAll(l, softHyphen, "")
		if i > 0 && !joined && b.Len() > 0 {
			b.WriteByte(' ')
		}
		joined = false
		if i < len(lines)-1 && strings.HasSuffix(l, "-") && len(l) > 1 {
			next := strings.TrimSpace(lines[i+1])
			before := l[len(l)-2]
			switch {
			case next == "":
			case isLetter(before) && next[0] >= 'a' && next[0] <= 'z':
				joined = true
				if !v.keepHyphen(lastWord(l[:len(l)-1]), firstWord(next)) {
					l = l[:len(l)-1]
				}
			case isLetter(before) && (next[0] >= 'A' && next[0] <= 'Z' || next[0] >= '0' && next[0] <= '9'):
				joined = true // "Transformer-" + "XL": a compound, TeX never breaks there
			case before >= '0' && before <= '9' && isLetter(next[0]):
				joined = true // "101-" + "layer": the hyphen is the compound's
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// firstWord is the leading run of letters of s.
func firstWord(s string) string {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	return s[:i]
}

// lastWord is the trailing run of letters of s.
func lastWord(s string) string {
	i := len(s)
	for i > 0 && isLetter(s[i-1]) {
		i--
	}
	return s[i:]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
