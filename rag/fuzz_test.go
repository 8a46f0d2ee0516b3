package rag

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzChunkCode: whatever the Python source (parsable or not), every code
// chunk is within the size cap, is the source text at the lines its
// metadata cites, and no non-blank line of the source is lost.
func FuzzChunkCode(f *testing.F) {
	for _, src := range sampleCode {
		f.Add(src)
	}
	f.Add(bigClassSource())
	f.Add("x = '" + strings.Repeat("é", 4000) + "'\ndef f():\n    return 1\n")
	f.Add("def broken(:\n  pass\n\n\n\nclass C:\n    def m(self): pass\n")
	f.Fuzz(func(t *testing.T, src string) {
		chunks, _ := codeChunks([]byte(src), "r", "f.py")
		lines := strings.Split(src, "\n")
		covered := map[int]bool{}
		for _, c := range chunks {
			if len(c.text) > maxCodeChunkBytes {
				t.Fatalf("chunk of %d bytes", len(c.text))
			}
			first, err1 := strconv.Atoi(c.md["start_line"])
			last, err2 := strconv.Atoi(c.md["end_line"])
			if err1 != nil || err2 != nil || first < 1 || last < first || last > len(lines) {
				t.Fatalf("lines %q-%q of %d", c.md["start_line"], c.md["end_line"], len(lines))
			}
			cited := strings.Join(lines[first-1:last], "\n")
			if !strings.Contains(cited, strings.TrimSpace(c.text)) && !strings.Contains(strings.TrimSpace(c.text), strings.TrimSpace(cited)) {
				t.Fatalf("chunk %q is not the text of lines %d-%d: %q", c.text, first, last, cited)
			}
			for l := first; l <= last; l++ {
				covered[l] = true
			}
		}
		for i, l := range lines {
			if strings.TrimSpace(l) != "" && !covered[i+1] {
				t.Fatalf("line %d %q is in no chunk", i+1, l)
			}
		}
	})
}

// FuzzChunkPaper: whatever a paper's text, every chunk is within the size
// cap and the words of each section's prose all reach its chunks, in order.
func FuzzChunkPaper(f *testing.F) {
	f.Add("Intro", "Some text. More text.\n\nA second paragraph.", "x = y")
	f.Add("Math", "$$ x\n\n"+strings.Repeat("word ", 500)+"\n\n$$ and after", "\\sum_i x_i")
	f.Add("Long", strings.Repeat("nosentenceend ", 3000), strings.Repeat("a+", 5000))
	f.Fuzz(func(t *testing.T, title, text, equation string) {
		doc := &paperDoc{Title: "P", Sections: []paperSection{{Number: "1", Title: title, Page: 1, Text: text,
			Blocks: []paperBlock{{Kind: "equation", Label: "1", Text: equation, Page: 1}}}}}
		var prose []string
		for _, c := range chunkPaper(doc, "p.md") {
			if len(c.text) > maxPaperChunkBytes {
				t.Fatalf("%s chunk of %d bytes", c.md["kind"], len(c.text))
			}
			if c.md["kind"] == "text" {
				prose = append(prose, strings.Fields(c.text)...)
			}
		}
		want := strings.Fields(text)
		if strings.Join(prose, " ") != strings.Join(want, " ") {
			t.Fatalf("prose words changed: %d chunked, %d in the text", len(prose), len(want))
		}
	})
}
