package paper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func loadFixture(t *testing.T, name string) *Paper {
	t.Helper()
	p, err := Load(context.Background(), "testdata/"+name, Options{})
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	return p
}

// headings lists "number title@level" depth-first.
func headings(p *Paper) []string {
	var out []string
	p.Walk(func(s *Section) { out = append(out, s.Heading()) })
	return out
}

func TestMarkdownSectionsEquationsTables(t *testing.T) {
	p := loadFixture(t, "attention.md")
	if p.Title != "Attention Is All You Need" {
		t.Errorf("title %q", p.Title)
	}
	if !strings.HasPrefix(p.Abstract, "The dominant sequence transduction") {
		t.Errorf("abstract %q", p.Abstract)
	}
	want := []string{"1 Introduction", "3 Model Architecture", "3.1 Encoder and Decoder Stacks", "3.2 Attention", "3.2.1 Scaled Dot-Product Attention", "4 Why Self-Attention"}
	if got := headings(p); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("headings\n got %q\nwant %q", got, want)
	}
	s, err := p.Find("3.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Level != 3 || len(s.Equations) != 2 || s.Equations[0].Number != "1" || s.Equations[1].Number != "2" {
		t.Fatalf("3.2.1: level %d equations %+v", s.Level, s.Equations)
	}
	if !strings.Contains(s.Equations[0].Text, `\sqrt{d_k}`) || strings.Contains(s.Equations[0].Text, `\tag`) {
		t.Errorf("equation 1 text %q", s.Equations[0].Text)
	}
	if len(s.Tables) != 1 || len(s.Tables[0].Rows) != 3 || s.Tables[0].Rows[1][0] != "Self-Attention" || s.Tables[0].Rows[2][2] != "O(n)" {
		t.Fatalf("table %+v", s.Tables)
	}
	if !strings.HasPrefix(s.Tables[0].Caption, "Table 1:") {
		t.Errorf("table caption %q", s.Tables[0].Caption)
	}
	if len(s.Algorithms) != 1 || s.Algorithms[0].Title != "Algorithm 1: Warm-up schedule" || !strings.Contains(s.Algorithms[0].Text, "warmup^-1.5") {
		t.Errorf("algorithms %+v", s.Algorithms)
	}
	if len(p.References) != 2 || !strings.Contains(p.References[1], "Bahdanau") {
		t.Errorf("references %q", p.References)
	}
	for _, sec := range headings(p) {
		if strings.Contains(strings.ToLower(sec), "reference") || strings.Contains(strings.ToLower(sec), "abstract") {
			t.Errorf("%q should not be a section", sec)
		}
	}
}

func TestMarkdownUnnumberedGetsNumbers(t *testing.T) {
	p := loadFixture(t, "unnumbered.md")
	want := "1 Introduction|2 Method|2.1 Loss|2.2 Optimiser|3 Results"
	if got := strings.Join(headings(p), "|"); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	s, err := p.Find("loss")
	if err != nil || s.Number != "2.1" || len(s.Equations) != 1 || s.Equations[0].Number != "" {
		t.Fatalf("find loss: %+v %v", s, err)
	}
}

func TestFind(t *testing.T) {
	p := loadFixture(t, "attention.md")
	for _, q := range []string{"3.2", "Attention", "3.2 Attention", "attention", "3.2. attention"} {
		s, err := p.Find(q)
		if err != nil || s.Number != "3.2" {
			t.Errorf("Find(%q) = %v, %v; want 3.2", q, s, err)
		}
	}
	if s, err := p.Find("scaled dot-product"); err != nil || s.Number != "3.2.1" {
		t.Errorf("prefix find: %v %v", s, err)
	}
	_, err := p.Find("Conclusion")
	if !errors.Is(err, ErrSectionNotFound) || !strings.Contains(err.Error(), "3.2.1 Scaled Dot-Product Attention") {
		t.Errorf("missing section error should list sections: %v", err)
	}
	// Only "4 Why Self-Attention" contains "self-attention": a unique
	// substring match.
	if s, err := p.Find("self-attention"); err != nil || s.Number != "4" {
		t.Errorf("substring find: %v %v", s, err)
	}
}

func TestSectionMarkdown(t *testing.T) {
	p := loadFixture(t, "attention.md")
	s, _ := p.Find("3.2")
	md := s.Markdown()
	for _, want := range []string{"### 3.2 Attention", "#### 3.2.1 Scaled Dot-Product Attention", "Equation (1):", `\sqrt{d_k}`, "| Self-Attention | O(n^2 d) | O(1) |", "Algorithm 1: Warm-up schedule"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown() lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Why Self-Attention") {
		t.Errorf("Markdown() of 3.2 leaks section 4")
	}
}

// TestFindAmbiguous: a query matching several sections equally well is
// an error naming each of them, never a silent first pick; error lists
// stay short on papers with thousands of headings.
func TestFindAmbiguous(t *testing.T) {
	src := "# A Paper\n\n## 1 Introduction\n\nx\n\n## 2 Attention Layers\n\ny\n\n## 3 Attention Heads\n\nz\n\n### 3.1 Multi-Head Attention\n\nw\n\n## Notes\n\na\n\n## Notes\n\nb\n"
	p, err := Parse("amb.md", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Find("attention")
	if !errors.Is(err, ErrAmbiguousSection) || !strings.Contains(err.Error(), "2 Attention Layers") || !strings.Contains(err.Error(), "3 Attention Heads") {
		t.Errorf("prefix of two titles: %v", err)
	}
	// The better tier decides: two prefix matches outrank the substring one.
	if strings.Contains(err.Error(), "Multi-Head") {
		t.Errorf("substring match listed among prefix matches: %v", err)
	}
	if _, err := p.Find("notes"); !errors.Is(err, ErrAmbiguousSection) {
		t.Errorf("two sections with one title: %v", err)
	}
	if s, err := p.Find("3"); err != nil || s.Title != "Attention Heads" {
		t.Errorf("number: %v %v", s, err)
	}
	if s, err := p.Find("multi-head"); err != nil || s.Number != "3.1" {
		t.Errorf("unique prefix: %v %v", s, err)
	}

	var b strings.Builder
	b.WriteString("# Big\n\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "## Part %d\n\ntext %d\n\n", i, i)
	}
	big, err := Parse("big.md", []byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	big.Walk(func(*Section) { n++ })
	if n != 10000 {
		t.Fatalf("%d sections, want 10000", n)
	}
	if s, err := big.Find("Part 9999"); err != nil || !strings.Contains(s.Text, "text 9999") {
		t.Errorf("Find(Part 9999): %v %v", s, err)
	}
	for _, q := range []string{"Part", "no such part"} {
		_, err := big.Find(q)
		if err == nil || len(err.Error()) > 2000 || !strings.Contains(err.Error(), "more") {
			t.Errorf("Find(%q): error of %d bytes: %.300v", q, len(fmt.Sprint(err)), err)
		}
	}
}

// TestBodyInPlace: display equations, tables and figures stay where they
// stand in the section (issue: equations were moved to the end), and
// footnotes are kept apart, in Markdown, LaTeX and PDF alike.
func TestBodyInPlace(t *testing.T) {
	md := "# T\n\n## 1 Method\n\nBefore the equation.\n\n$$\nE = mc^2 \\tag{1}\n$$\n\nAfter the equation.[^1]\n\n" +
		"Figure 1: The model.\n\nAfter the figure.\n\n[^1]: A note.\n"
	tex := `\documentclass{article}\begin{document}\section{Method}Before the equation.
\begin{equation}E = mc^2\end{equation}
After the equation.\footnote{A \emph{note}.} Still after.
\end{document}`
	for _, c := range []struct{ name, src, note string }{{"x.md", md, "1 A note."}, {"x.tex", tex, "A note."}} {
		p, err := Parse(c.name, []byte(c.src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := p.Find("1")
		if err != nil {
			t.Fatal(err)
		}
		out := s.Markdown()
		before, eq, after := strings.Index(out, "Before the equation."), strings.Index(out, "E = mc^2"), strings.Index(out, "After the equation.")
		if before < 0 || eq < before || after < eq {
			t.Errorf("%s: equation not in place:\n%s", c.name, out)
		}
		if fig := strings.Index(out, "[Figure 1: The model.]"); c.name == "x.md" && (fig < after || strings.Index(out, "After the figure.") < fig) {
			t.Errorf("%s: figure placeholder not in place:\n%s", c.name, out)
		}
		if len(s.Footnotes) != 1 || s.Footnotes[0] != c.note || strings.Contains(s.Text, "note") {
			t.Errorf("%s: footnotes %q, text %q", c.name, s.Footnotes, s.Text)
		}
	}
}
