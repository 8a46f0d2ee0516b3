package paper

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The real-paper corpus in testdata/corpus (see its README.md and
// SOURCES.txt): eight arXiv/ACL PDFs with hand-written truth.json. The
// test below measures heading recall and precision, phrases that come out
// whole in the right section and captions attached to the right section,
// and fails when any figure drops below what the code reached, so a
// regression on a real paper is caught.

type corpusTruth struct {
	Title    string `json:"title"`
	Layout   string `json:"layout"`
	Sections []struct {
		Number string `json:"number"`
		Title  string `json:"title"`
	} `json:"sections"`
	Phrases []struct {
		Section string `json:"section"`
		Text    string `json:"text"`
	} `json:"phrases"`
	Captions []struct {
		Section string `json:"section"`
		Text    string `json:"text"`
	} `json:"captions"`
}

// corpusScore is what one or more papers scored.
type corpusScore struct {
	headingsTrue, headingsFound, headingsOut, headingsRight int
	phrases, phrasesWhole                                   int
	captions, captionsRight                                 int
	pages                                                   int
	misses                                                  []string
}

func (s *corpusScore) add(o corpusScore) {
	s.headingsTrue += o.headingsTrue
	s.headingsFound += o.headingsFound
	s.headingsOut += o.headingsOut
	s.headingsRight += o.headingsRight
	s.phrases += o.phrases
	s.phrasesWhole += o.phrasesWhole
	s.captions += o.captions
	s.captionsRight += o.captionsRight
	s.pages += o.pages
	s.misses = append(s.misses, o.misses...)
}

func (s corpusScore) recall() float64    { return ratio(s.headingsFound, s.headingsTrue) }
func (s corpusScore) precision() float64 { return ratio(s.headingsRight, s.headingsOut) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// squash collapses white space; titleKey also folds case and drops spaces
// and dots, so the small-caps "RNN E NCODER –D ECODER" some tools print
// and a trailing period do not decide a match.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func titleKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// scorePaper compares a parsed paper with its truth.
func scorePaper(name string, p *Paper, tr corpusTruth) corpusScore {
	sc := corpusScore{pages: p.Pages}
	byNumber := map[string]*Section{}
	p.Walk(func(s *Section) {
		if s.Number != "" {
			sc.headingsOut++
			if byNumber[s.Number] == nil {
				byNumber[s.Number] = s
			}
		}
	})
	truth := map[string]string{}
	for _, t := range tr.Sections {
		sc.headingsTrue++
		truth[t.Number] = titleKey(t.Title)
		if s := byNumber[t.Number]; s != nil && titleKey(s.Title) == truth[t.Number] {
			sc.headingsFound++
		} else if s != nil {
			sc.misses = append(sc.misses, fmt.Sprintf("%s: heading %s %q read as %q", name, t.Number, t.Title, s.Title))
		} else {
			sc.misses = append(sc.misses, fmt.Sprintf("%s: heading %s %q missing", name, t.Number, t.Title))
		}
	}
	p.Walk(func(s *Section) {
		if s.Number == "" {
			return
		}
		if k, ok := truth[s.Number]; ok && k == titleKey(s.Title) {
			sc.headingsRight++
		} else if !ok {
			sc.misses = append(sc.misses, fmt.Sprintf("%s: extra heading %q", name, s.Heading()))
		}
	})
	for _, ph := range tr.Phrases {
		sc.phrases++
		s := byNumber[ph.Section]
		if s != nil && strings.Contains(squash(s.Text+"\n"+strings.Join(s.Footnotes, "\n")), squash(ph.Text)) {
			sc.phrasesWhole++
			continue
		}
		sc.misses = append(sc.misses, fmt.Sprintf("%s: phrase in %s not whole: %q", name, ph.Section, ph.Text))
	}
	for _, c := range tr.Captions {
		sc.captions++
		s := byNumber[c.Section]
		found := false
		if s != nil {
			var all []string
			all = append(all, s.Captions...)
			for _, t := range s.Tables {
				all = append(all, t.Caption)
			}
			for _, got := range all {
				found = found || strings.HasPrefix(squash(got), squash(c.Text))
			}
		}
		if found {
			sc.captionsRight++
			continue
		}
		sc.misses = append(sc.misses, fmt.Sprintf("%s: caption %q not in section %s", name, c.Text, c.Section))
	}
	return sc
}

func loadTruth(t testing.TB, dir string) map[string]corpusTruth {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatalf("read corpus truth: %v", err)
	}
	var truth map[string]corpusTruth
	if err := json.Unmarshal(data, &truth); err != nil {
		t.Fatalf("parse corpus truth: %v", err)
	}
	return truth
}

// scoreDir parses every paper of a truth.json folder and adds up the
// scores; with report set it prints one line per paper, the misses and
// the total, prefixed by label.
func scoreDir(t *testing.T, dir, label string, report bool) corpusScore {
	truth := loadTruth(t, dir)
	names := make([]string, 0, len(truth))
	for n := range truth {
		names = append(names, n)
	}
	sort.Strings(names)
	var total corpusScore
	var elapsed time.Duration
	for _, name := range names {
		start := time.Now()
		p, err := Load(context.Background(), filepath.Join(dir, name), Options{})
		elapsed += time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sc := scorePaper(name, p, truth[name])
		total.add(sc)
		if report {
			fmt.Printf("%s: %-34s %-10s headings %2d/%2d found, %2d/%2d right; phrases %d/%d; captions %d/%d\n",
				label, name, truth[name].Layout, sc.headingsFound, sc.headingsTrue, sc.headingsRight, sc.headingsOut,
				sc.phrasesWhole, sc.phrases, sc.captionsRight, sc.captions)
		}
	}
	for _, m := range total.misses {
		t.Log(m)
	}
	if report {
		for _, m := range total.misses {
			fmt.Printf("%s: miss: %s\n", label, m)
		}
		fmt.Printf("%s: TOTAL heading recall %.1f%% (%d/%d), precision %.1f%% (%d/%d), phrases whole %d/%d, captions right %d/%d, %d pages in %.2fs in-process\n",
			label, 100*total.recall(), total.headingsFound, total.headingsTrue, 100*total.precision(), total.headingsRight, total.headingsOut,
			total.phrasesWhole, total.phrases, total.captionsRight, total.captions, total.pages, elapsed.Seconds())
	}
	return total
}

// TestCorpus parses every corpus paper and asserts the figures reached:
// heading recall and precision, whole phrases and attached captions.
// R2C_CORPUS_REPORT=1 prints the per-paper table bench/paper.sh shows.
func TestCorpus(t *testing.T) {
	total := scoreDir(t, filepath.Join("testdata", "corpus"), "corpus", os.Getenv("R2C_CORPUS_REPORT") != "")
	// The level reached on 2026-12-03 (every heading, no extra one, every
	// phrase and caption); a miss anywhere is a regression.
	const minFound, maxExtra, minPhrases, minCaptions = 133, 0, 16, 8
	if total.headingsFound < minFound || total.headingsOut-total.headingsRight > maxExtra || total.phrasesWhole < minPhrases || total.captionsRight < minCaptions {
		t.Errorf("corpus regressed: headings found %d (min %d), wrong %d (max %d), phrases whole %d (min %d), captions right %d (min %d); the misses are logged above",
			total.headingsFound, minFound, total.headingsOut-total.headingsRight, maxExtra, total.phrasesWhole, minPhrases, total.captionsRight, minCaptions)
	}
}

// TestHeldout measures headings on papers the reader was not tuned on
// (testdata/heldout, see its SOURCES.txt), reported apart from the corpus.
func TestHeldout(t *testing.T) {
	total := scoreDir(t, filepath.Join("testdata", "heldout"), "heldout", os.Getenv("R2C_CORPUS_REPORT") != "")
	// Measured untuned on 2026-12-03: 69/77 (89.6%), all of the misses in
	// sentencepiece_1808.06226.pdf, whose stray "bcolor [0]" operands
	// voided a cm (fixed in the content interpreter, not in the heading
	// rules); now every heading, none extra.
	const minFound, maxExtra = 77, 0
	if total.headingsFound < minFound || total.headingsOut-total.headingsRight > maxExtra {
		t.Errorf("held-out papers regressed: headings found %d (min %d), wrong %d (max %d); the misses are logged above",
			total.headingsFound, minFound, total.headingsOut-total.headingsRight, maxExtra)
	}
}

// TestCorpusBodyInPlace: on real PDFs, display equations and figure
// placeholders stand between the paragraphs around them, and a figure's
// own text (axis ticks, legend) stays out of the prose.
func TestCorpusBodyInPlace(t *testing.T) {
	load := func(name string) *Paper {
		p, err := Load(context.Background(), filepath.Join("testdata", "corpus", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, err := load("bahdanau_attention_1409.0473.pdf").Find("2.1")
	if err != nil {
		t.Fatal(err)
	}
	md := s.Markdown()
	eq, after := strings.Index(md, "Equation (1):"), strings.Index(md, "where ht ∈ Rn is a hidden state")
	if eq < 0 || after < eq || strings.Index(md, "The most common approach is to use an RNN") > eq {
		t.Errorf("equation (1) of bahdanau 2.1 not between its paragraphs:\n%s", md)
	}
	// Footnotes go to the section whose page prints them: footnote 2,
	// marked in 2.1, and footnote 1, marked in section 1 on the page before.
	if !slices.ContainsFunc(s.Footnotes, func(f string) bool { return strings.HasPrefix(f, "2 Although most of the previous works") }) || strings.Contains(s.Text, "Although most of the previous works") {
		t.Errorf("bahdanau 2.1 footnotes: %q", s.Footnotes)
	}
	s, err = load("luong_attention_1508.04025.pdf").Find("5.3")
	if err != nil {
		t.Fatal(err)
	}
	md = s.Markdown()
	fig := strings.Index(md, "[Figure 6: Length Analysis")
	if strings.Contains(s.Text, "Sent Lengths") || strings.Contains(s.Text, "ours, no attn") || fig < strings.Index(md, "The location-based function does") {
		t.Errorf("figure 6 of luong 5.3 not a placeholder in place:\n%s", md)
	}
}
