package rag

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/paper"
)

func TestChunkPaperKeepsMathAndSentencesWhole(t *testing.T) {
	sentence := "The optimiser updates every weight with its own step size. "
	long := strings.Repeat(sentence, 60) // 600 words, one paragraph
	math := "\\begin{align}\ng &= \\sigma(W_g h + b_g) \\\\\n\nh' &= g \\odot h + (1 - g) \\odot x\n\\end{align}"
	display := "$$\nL = -\\sum_i \\log p(y_i \\mid x_i)\n\n+ \\lambda \\|\\theta\\|^2\n$$"
	text := "A short opening paragraph.\n\n" + math + "\n\n" + long + "\n\n" + display + "\n\nA closing remark."

	doc := &paperDoc{Title: "T", Sections: []paperSection{{Number: "2", Title: "Method", Page: 3, Text: text}}}
	chunks := chunkPaper(doc, "t.md")

	var all []string
	for _, c := range chunks {
		all = append(all, strings.Fields(c.text)...)
		n := len(strings.Fields(c.text))
		if n > maxPaperWords && !strings.Contains(c.text, "$$") && !strings.Contains(c.text, `\begin{`) {
			t.Errorf("chunk of %d words without math", n)
		}
		if c.md["section"] != "2" || c.md["title"] != "Method" || c.md["page"] != "3" || c.md["paper"] != "T" || c.md["file"] != "t.md" {
			t.Errorf("metadata %v", c.md)
		}
		// A piece of the long paragraph starts and ends at sentence bounds.
		if strings.Contains(c.text, "optimiser") && !strings.HasSuffix(strings.TrimSpace(c.text), ".") {
			t.Errorf("chunk cut inside a sentence: ...%q", c.text[max(0, len(c.text)-40):])
		}
	}
	if !slices.Equal(all, strings.Fields(text)) {
		t.Fatal("chunks do not hold the section's words exactly once, in order")
	}
	for _, block := range []string{math, display} {
		found := false
		for _, c := range chunks {
			found = found || strings.Contains(c.text, block)
		}
		if !found {
			t.Errorf("display math was cut: %q", block)
		}
	}
	if len(chunks) < 4 {
		t.Fatalf("a 600-word paragraph was not split: %d chunks", len(chunks))
	}
}

var displayMath = regexp.MustCompile(`(?s)\$\$(.+?)\$\$|\\begin\{equation\}(.+?)\\end\{equation\}`)

// TestChunkFixturePapers chunks the fixture papers through the paper package
// and checks, against the source files, that every display equation is one
// chunk and that each section's prose is all there.
func TestChunkFixturePapers(t *testing.T) {
	for _, name := range []string{"sparse-experts.md", "contrastive-audio.md", "lowrank-adapters.tex"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "papers", name)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := paperChunks(context.Background(), path, src)
			if err != nil {
				t.Fatal(err)
			}
			var eqChunks []pendingChunk
			for _, c := range chunks {
				if c.md["kind"] == "equation" {
					eqChunks = append(eqChunks, c)
				}
			}
			// Equations in the source, counted independently of the parser.
			want := displayMath.FindAllStringSubmatch(string(src), -1)
			if len(eqChunks) != len(want) {
				t.Fatalf("%d equation chunks, the source has %d display equations", len(eqChunks), len(want))
			}
			for i, m := range want {
				body := m[1] + m[2]
				// The core of the equation (without \label or \tag) is in its chunk.
				core := strings.TrimSpace(regexp.MustCompile(`\\(label|tag)\{[^}]*\}`).ReplaceAllString(body, ""))
				first := strings.Fields(core)[0]
				if !strings.Contains(eqChunks[i].text, first) || len(strings.Fields(eqChunks[i].text)) < len(strings.Fields(core))-1 {
					t.Errorf("equation %d chunk %q does not hold %q", i+1, eqChunks[i].text, core)
				}
			}
			p, err := paper.Parse(path, src, paper.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p.Walk(func(s *paper.Section) {
				var got []string
				for _, c := range chunks {
					if c.md["section"] == s.Number && c.md["kind"] == "text" {
						got = append(got, strings.Fields(c.text)...)
					}
				}
				if !slices.Equal(got, strings.Fields(s.Text)) {
					t.Errorf("§%s: chunks hold %d words, the section %d", s.Number, len(got), len(strings.Fields(s.Text)))
				}
			})
		})
	}
}
