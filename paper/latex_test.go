package paper

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestLaTeXMatchesSourceFacts parses the fixtures' LaTeX with parseLaTeX
// and checks it against the regular-expression oracle of pdf_test.go.
func TestLaTeXMatchesSourceFacts(t *testing.T) {
	for _, name := range []string{"onecol", "twocol", "neurips"} {
		t.Run(name, func(t *testing.T) {
			facts := readTexFacts(t, "testdata/"+name+".tex")
			p := loadFixture(t, name+".tex")
			if got := headings(p); strings.Join(got, "|") != strings.Join(facts.headings, "|") {
				t.Errorf("sections\n got %q\nwant %q", got, facts.headings)
			}
			if n := len(numberedEquations(p)); n != facts.numbered {
				t.Errorf("numbered equations %d, want %d", n, facts.numbered)
			}
			var tables []Table
			p.Walk(func(s *Section) { tables = append(tables, s.Tables...) })
			if len(tables) != 1 || fmt.Sprint(tables[0].Rows) != fmt.Sprint(facts.tableRows) || tables[0].Caption != facts.tableCaption {
				t.Errorf("tables %+v, want rows %q caption %q", tables, facts.tableRows, facts.tableCaption)
			}
			if len(p.References) != facts.bibitems {
				t.Errorf("references %d, want %d", len(p.References), facts.bibitems)
			}
		})
	}
}

// TestLaTeXAgreesWithPDF: the LaTeX parser and the PDF reader are two
// implementations; on the same paper they must put the same numbered
// equations in the same sections.
func TestLaTeXAgreesWithPDF(t *testing.T) {
	for _, name := range []string{"onecol", "twocol", "neurips"} {
		t.Run(name, func(t *testing.T) {
			fromTeX, fromPDF := loadFixture(t, name+".tex"), loadPDF(t, name)
			perSection := func(p *Paper) map[string][]string {
				m := map[string][]string{}
				p.Walk(func(s *Section) {
					for _, e := range s.Equations {
						if e.Number != "" {
							m[s.Number] = append(m[s.Number], e.Number)
						}
					}
				})
				return m
			}
			if a, b := fmt.Sprint(perSection(fromTeX)), fmt.Sprint(perSection(fromPDF)); a != b {
				t.Errorf("equations per section differ:\nlatex %s\npdf   %s", a, b)
			}
			if fromTeX.Title != fromPDF.Title {
				t.Errorf("titles differ: %q vs %q", fromTeX.Title, fromPDF.Title)
			}
		})
	}
}

func TestLaTeXDetails(t *testing.T) {
	p := loadFixture(t, "onecol.tex")
	s, err := p.Find("2.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Text, "Given queries $Q$, keys $K$ and values $V$, scaled") {
		t.Errorf("inline math and spacing: %q", s.Text)
	}
	if len(s.Equations) != 1 || s.Equations[0].Text != `\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V` {
		t.Errorf("equation 1 should be the exact source: %+v", s.Equations)
	}
	gated, _ := p.Find("Gated Residual Block")
	if !strings.Contains(gated.Text, "Equation (3) uses") {
		t.Errorf(`\eqref not resolved: %q`, gated.Text)
	}
	obj, _ := p.Find("3.2")
	if len(obj.Algorithms) != 1 || !strings.Contains(obj.Algorithms[0].Text, "for each minibatch $B$ in $D$ do\n") || !strings.HasSuffix(obj.Algorithms[0].Text, "end for\nreturn trained parameters") {
		t.Errorf("algorithm: %+v", obj.Algorithms)
	}
	if !strings.HasPrefix(p.Abstract, "We introduce gated residual attention") {
		t.Errorf("abstract %q", p.Abstract)
	}
}

func TestLaTeXInputNoteAndStarredSections(t *testing.T) {
	src := `\documentclass{article}
\title{Notes\thanks{funded}}
\begin{document}
\iffalse
\section{Draft}
\ifx\a\b nested \fi
\fi
\begin{comment}
\section{Old}
\end{comment}
\section*{Preface}
Unnumbered.
\section{Setup}\label{sec:setup}
See Section~\ref{sec:setup}. % a comment with \section{Fake}
\input{results}
\[ a = b \]
$$ c = d $$
\begin{align*} e &= f \\ g &= h \end{align*}
\begin{equation} x = y \tag{A1} \end{equation}
\end{document}`
	p := parseLaTeX(src)
	if p.Title != "Notes" {
		t.Errorf("title %q", p.Title)
	}
	if got := strings.Join(headings(p), "|"); got != "Preface|1 Setup" {
		t.Errorf("headings %q", got)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], `\input{results}`) {
		t.Errorf("notes %q", p.Notes)
	}
	s, _ := p.Find("1")
	if !strings.Contains(s.Text, "See Section 1.") {
		t.Errorf("ref: %q", s.Text)
	}
	var nums []string
	for _, e := range s.Equations {
		nums = append(nums, e.Number)
	}
	if strings.Join(nums, ",") != ",,,,A1" {
		t.Errorf("equation numbers %q (want four unnumbered and A1)", nums)
	}
}

func TestPlainText(t *testing.T) {
	src := "A Tiny Paper\n\nAbstract\nWe do things.\n\n1 Introduction\nSome text that wraps and is hyphen-\nated here.\n\n1. this numbered list item is not a heading\n\n2 Method\nLoss is\nL = x + y (1)\n\n2.1 Details\nMore.\n\nReferences\n[1] Someone. A paper. 2020.\n[2] Other. Another. 2021.\n"
	p, err := Parse("tiny.txt", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "A Tiny Paper" || p.Abstract != "We do things." {
		t.Errorf("title %q abstract %q", p.Title, p.Abstract)
	}
	if got := strings.Join(headings(p), "|"); got != "1 Introduction|2 Method|2.1 Details" {
		t.Errorf("headings %q", got)
	}
	intro, _ := p.Find("introduction")
	if !strings.Contains(intro.Text, "hyphenated here") {
		t.Errorf("dehyphenation: %q", intro.Text)
	}
	m, _ := p.Find("2")
	if len(m.Equations) != 1 || m.Equations[0].Number != "1" {
		t.Errorf("equations %+v", m.Equations)
	}
	if len(p.References) != 2 {
		t.Errorf("references %q", p.References)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(context.Background(), "testdata/does-not-exist.pdf", Options{})
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.pdf") {
		t.Fatalf("error should name the file: %v", err)
	}
}

// TestPlainTextFromPdftotext parses pdftotext's output of the one-column
// fixture with the plain-text fallback: the headings, which pdftotext
// splits into number and title paragraphs, come back as the source has them.
func TestPlainTextFromPdftotext(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	out, err := exec.Command("pdftotext", fixturePDF(t, "onecol"), "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("onecol.txt", out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	facts := readTexFacts(t, "testdata/onecol.tex")
	if got := headings(p); strings.Join(got, "|") != strings.Join(facts.headings, "|") {
		t.Errorf("sections\n got %q\nwant %q", got, facts.headings)
	}
}

func TestDehyphenate(t *testing.T) {
	cases := []struct {
		lines []string
		want  string
	}{
		{[]string{"a repre-", "sentation of"}, "a representation of"},
		{[]string{"uses self-", "attention and fine-", "tuning"}, "uses self-attention and fine-tuning"},
		{[]string{"ends with a dash -", "next"}, "ends with a dash - next"},
		{[]string{"Transformer-", "XL is a model"}, "Transformer-XL is a model"},
		{[]string{"one", "two"}, "one two"},
	}
	for _, c := range cases {
		if got := dehyphenate(c.lines); got != c.want {
			t.Errorf("dehyphenate(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}

// TestLaTeXBrokenStructureAtScale: unclosed environments, unbalanced
// braces, deep nesting and thousands of disabled blocks parse to the
// sections around them. Each construct used to be handled with a fresh
// search of the rest of the file, so these 2-4 MB inputs took minutes
// (quadratic); the go test timeout is the backstop.
func TestLaTeXBrokenStructureAtScale(t *testing.T) {
	tail := "\n\\section{End}\nlast words\n"
	cases := map[string]struct {
		src  string
		want []string // headings
	}{
		"unclosed begins": {"\\section{Intro}\n" + strings.Repeat("\\begin{abstract}\\begin{lemma} word ", 100000) + tail, []string{"1 Intro", "2 End"}},
		"unclosed spaced": {"\\section{Intro}\n" + strings.Repeat("\\begin {equation} x ", 100000) + tail, []string{"1 Intro", "2 End"}},
		"closed deep":     {"\\section{Intro}\n" + strings.Repeat("\\begin{itemize} ", 50000) + strings.Repeat("\\end{itemize} ", 50000) + tail, []string{"1 Intro", "2 End"}},
		"disabled":        {"\\section{Intro}\n" + strings.Repeat("\\iffalse \\section{Hidden} \\ifx a b \\fi \\fi shown ", 50000) + tail, []string{"1 Intro", "2 End"}},
		"comments":        {"\\section{Intro}\n" + strings.Repeat("\\begin{comment} \\section{Hidden} \\end{comment} shown ", 50000) + tail, []string{"1 Intro", "2 End"}},
		"nested braces":   {"\\section{Intro}\n" + strings.Repeat("{", 100000) + "x" + strings.Repeat("}", 100000) + tail, []string{"1 Intro", "2 End"}},
		// Stray braces in prose do not hide later headings.
		"unbalanced braces": {"\\section{Intro}\n" + strings.Repeat("}{", 100000) + strings.Repeat("{", 1000) + tail, []string{"1 Intro", "2 End"}},
		"unclosed iffalse":  {"\\section{Intro}\nshown\n\\iffalse" + tail, []string{"1 Intro"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Parse("broken.tex", []byte(c.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := headings(p); strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("headings %q, want %q", got, c.want)
			}
			if len(c.want) == 2 && !strings.Contains(p.Sections[1].Text, "last words") {
				t.Errorf("End section text %q", p.Sections[1].Text)
			}
		})
	}
}

// TestLaTeXNestedDisabledBlocks: an \iffalse block ends at its own \fi,
// counting conditionals nested in it, and comment environments nest.
func TestLaTeXNestedDisabledBlocks(t *testing.T) {
	src := "\\section{A}\nkeep1 \\iffalse drop1 \\ifdim x drop2 \\fi drop3 \\fi keep2 \\ifx a b keep3 \\fi\n" +
		"\\begin{comment} drop4 \\begin{comment} drop5 \\end{comment} drop6 \\end{comment} keep4\n"
	p, err := Parse("d.tex", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := p.Sections[0].Text
	for _, w := range []string{"keep1", "keep2", "keep3", "keep4"} {
		if !strings.Contains(text, w) {
			t.Errorf("%s missing from %q", w, text)
		}
	}
	for _, w := range []string{"drop1", "drop2", "drop3", "drop4", "drop5", "drop6"} {
		if strings.Contains(text, w) {
			t.Errorf("%s kept in %q", w, text)
		}
	}
}
