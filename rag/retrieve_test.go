package rag

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

type question struct {
	file, section, text string
}

func readQuestions(t *testing.T) []question {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "questions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []question
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("bad question line %q", line)
		}
		qs = append(qs, question{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])})
	}
	return qs
}

// minRecallAt5 is the recall@5 the offline embedder must reach on
// testdata/questions.txt (34 questions, 38 chunks). Picking 5 chunks at
// random finds the answer for 16% of the questions, and a plain hashed bag
// of words (bagOfWords below) for 74%; the offline embedder finds 100% (it
// found 97% when the questions were written). 0.85 allows five misses, so
// harmless changes to chunking pass, while a regression to bag-of-words
// quality fails; the test also requires beating that floor outright.
const minRecallAt5 = 0.85

// TestRetrievalRecallAt5 indexes three fixture papers (Markdown and LaTeX,
// through the paper package) and asks questions whose answering section was
// noted by hand when the questions were written.
func TestRetrievalRecallAt5(t *testing.T) {
	recall := recallAt5(t, NewOffline(0), true)
	floor := recallAt5(t, bagOfWords{DefaultOfflineDim}, false)
	t.Logf("recall@5: offline embedder %.2f, plain bag of words %.2f", recall, floor)
	if recall < minRecallAt5 || recall <= floor {
		t.Fatalf("recall@5 %.2f is below %.2f or not above the bag-of-words floor %.2f", recall, minRecallAt5, floor)
	}
}

func recallAt5(t *testing.T, emb Embedder, logMisses bool) float64 {
	ix, err := Create(filepath.Join(t.TempDir(), "index"), emb)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ix.Update(context.Background(), Sources{Papers: []string{filepath.Join("testdata", "papers")}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 3 || len(st.Failed) > 0 {
		t.Fatalf("indexing fixture papers: %+v", st)
	}
	qs := readQuestions(t)
	total := ix.Count(Papers)
	hits := 0
	chance := 0.0
	for _, q := range qs {
		chunks, err := ix.Retrieve(context.Background(), q.text, RetrieveOptions{K: 5, Collections: []string{Papers}})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range chunks {
			if c.Metadata["file"] == q.file && c.Metadata["section"] == q.section {
				found = true
			}
		}
		if found {
			hits++
		} else if logMisses {
			var got []string
			for _, c := range chunks {
				got = append(got, c.Source)
			}
			t.Logf("miss: %q (want %s §%s), got %v", q.text, q.file, q.section, got)
		}
		chance += chanceHit(total, len(ix.sectionChunkIDs(q.file, q.section)), 5)
	}
	recall := float64(hits) / float64(len(qs))
	t.Logf("%s: recall@5 = %.2f (%d/%d questions, %d chunks); chance = %.2f", emb.Name(), recall, hits, len(qs), total, chance/float64(len(qs)))
	return recall
}

// sectionChunkIDs lists the IDs of the chunks of one section of one paper.
func (ix *Index) sectionChunkIDs(file, section string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var ids []string
	for path, f := range ix.man.Files[Papers] {
		if filepath.Base(path) != file {
			continue
		}
		for _, id := range f.Chunks {
			d, err := ix.cols[Papers].GetByID(context.Background(), id)
			if err == nil && d.Metadata["section"] == section {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// chanceHit is the probability that k chunks drawn at random from n include
// at least one of a answers.
func chanceHit(n, a, k int) float64 {
	miss := 1.0
	for i := 0; i < k && i < n; i++ {
		miss *= float64(n-a-i) / float64(n-i)
		if miss < 0 {
			return 1
		}
	}
	return 1 - miss
}

func TestRetrieveCitesPaperSections(t *testing.T) {
	ix, err := Create(filepath.Join(t.TempDir(), "index"), NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Update(context.Background(), Sources{Papers: []string{filepath.Join("testdata", "papers", "lowrank-adapters.tex")}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	chunks, err := ix.Retrieve(context.Background(), "initialise B at zero and A Gaussian", RetrieveOptions{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "lowrank-adapters.tex §3.2 Initialization"
	if len(chunks) != 1 || chunks[0].Source != want {
		t.Fatalf("got %+v, want source %q", chunks, want)
	}
	if c := chunks[0]; c.Metadata["paper"] != "Low-Rank Residual Adapters for Parameter-Efficient Fine-Tuning" || c.Collection != Papers || !strings.Contains(c.Text, "starts at\nzero") && !strings.Contains(c.Text, "starts at zero") {
		t.Fatalf("chunk %+v", c)
	}
	// The equation is one chunk, whole, with its number.
	eqs, err := ix.Retrieve(context.Background(), "forward pass h = W0 x + alpha/r B A x", RetrieveOptions{K: 10, Where: map[string]string{"kind": "equation"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(eqs) != 1 || !strings.Contains(eqs[0].Text, `h = W_0 x + \frac{\alpha}{r} B A x`) || eqs[0].Metadata["section"] != "3.1" {
		t.Fatalf("equation chunks: %+v", eqs)
	}
}

func TestSelectChunksBudgetAndDuplicates(t *testing.T) {
	mk := func(id string, score float32, text string) Chunk {
		return Chunk{ID: id, Score: score, Text: text, Tokens: estimateTokens(text)}
	}
	long := strings.Repeat("word ", 100) // 125 tokens
	cands := []Chunk{
		mk("a", 0.9, "The learning rate warms up linearly."),
		mk("b", 0.8, "the  learning-rate warms up LINEARLY"), // same text after normalisation
		mk("c", 0.7, long),
		mk("d", 0.6, "warms up"), // contained in a
		mk("e", 0.5, "Cosine decay follows."),
		mk("f", 0.4, "Weight decay is 0.1."),
		mk("g", 0.1, "Unrelated."),
	}
	got := selectChunks(cands, RetrieveOptions{K: 3, MaxTokens: 40})
	var ids []string
	tokens := 0
	for _, c := range got {
		ids = append(ids, c.ID)
		tokens += c.Tokens
	}
	// b and d duplicate a; c does not fit the budget, smaller ones do.
	if strings.Join(ids, "") != "aef" || tokens > 40 {
		t.Fatalf("selected %v (%d tokens)", ids, tokens)
	}
	got = selectChunks(cands, RetrieveOptions{K: 10, MinScore: 0.45})
	ids = nil
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, "") != "ace" {
		t.Fatalf("with MinScore 0.45 selected %v", ids)
	}
}

func TestRetrieveAcrossCollectionsAndFilters(t *testing.T) {
	_, _, ix := buildSample(t, NewOffline(0))
	if _, err := ix.Update(context.Background(), Sources{Papers: []string{filepath.Join("testdata", "papers", "sparse-experts.md")}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	chunks, err := ix.Retrieve(ctx, "learning rate warm-up then cosine decay", RetrieveOptions{K: 4})
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]bool{}
	for i, c := range chunks {
		cols[c.Collection] = true
		if i > 0 && c.Score > chunks[i-1].Score {
			t.Fatalf("not sorted by score: %+v", chunks)
		}
	}
	if !cols[Papers] || !cols[Code] {
		t.Fatalf("want both the schedule code and the paper's schedule section, got %+v", chunks)
	}
	only, err := ix.Retrieve(ctx, "learning rate warm-up then cosine decay", RetrieveOptions{K: 4, Collections: []string{Code}, Where: map[string]string{"repo": "repo"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range only {
		if c.Collection != Code {
			t.Fatalf("collection filter ignored: %+v", c)
		}
	}
	if want := "repo/optim/schedule.py:1-6 (warmup_cosine)"; len(only) == 0 || only[0].Source != want {
		t.Fatalf("top code chunk %+v, want source %q", only, want)
	}
	if _, err := ix.Retrieve(ctx, "x", RetrieveOptions{Collections: []string{"nope"}}); err == nil {
		t.Fatal("unknown collection accepted")
	}
	if _, err := ix.Retrieve(ctx, "  ", RetrieveOptions{}); err == nil {
		t.Fatal("empty query accepted")
	}
}

// bagOfWords is the simplest hashed embedder: lower-cased words, raw counts,
// no stop words, stemming, n-grams or IDF. It is the floor the offline
// embedder's recall is compared with.
type bagOfWords struct{ dim int }

func (b bagOfWords) Name() string { return "test-bag-of-words" }
func (b bagOfWords) Dim() int     { return b.dim }
func (b bagOfWords) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, b.dim)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			h := featureHash(kindWord, w, "")
			bucket := (h >> kindBits) % uint64(b.dim)
			if h>>63 == 1 {
				v[bucket]--
			} else {
				v[bucket]++
			}
		}
		normalize(v)
		out[i] = v
	}
	return out, nil
}
