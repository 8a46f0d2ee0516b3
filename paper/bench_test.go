package paper

import (
	"context"
	"math/rand"
	"os"
	"strings"
	"testing"
)

var sinkPaper *Paper
var sinkText string

func benchPDF(b *testing.B, name string, parse bool) {
	path := fixturePDF(b, name)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(path, data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	pages := p.Pages
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if parse {
			sinkPaper, err = Parse(path, data, Options{})
		} else {
			sinkText, err = PDFText(path, data, Options{})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
}

func BenchmarkPDFTextOneColumn(b *testing.B)  { benchPDF(b, "onecol", false) }
func BenchmarkPDFTextTwoColumn(b *testing.B)  { benchPDF(b, "twocol", false) }
func BenchmarkParsePDFTwoColumn(b *testing.B) { benchPDF(b, "twocol", true) }

// syntheticMarkdown is a paper of n sections with prose, display math and
// a table each, from a seeded generator.
func syntheticMarkdown(n int) string {
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("attention layer token model gradient expert router loss batch norm residual head query key value")
	var b strings.Builder
	b.WriteString("# Synthetic\n\n## Abstract\n\nA paper.\n\n")
	for i := 1; i <= n; i++ {
		b.WriteString("## " + itoa(i) + " Section\n\n")
		for p := 0; p < 4; p++ {
			for w := 0; w < 80; w++ {
				b.WriteString(words[rng.Intn(len(words))] + " ")
			}
			b.WriteString("\n\n")
		}
		b.WriteString("$$ y = \\sum_i w_i x_i \\tag{" + itoa(i) + "} $$\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n")
	}
	return b.String()
}

func BenchmarkParseMarkdown(b *testing.B) {
	src := []byte(syntheticMarkdown(200))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		sinkPaper, _ = Parse("synthetic.md", src, Options{})
	}
}

func BenchmarkParseLaTeX(b *testing.B) {
	src, err := os.ReadFile("testdata/onecol.tex")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		sinkPaper, _ = Load(context.Background(), "testdata/onecol.tex", Options{})
	}
}
