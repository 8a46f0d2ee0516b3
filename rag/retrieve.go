package rag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	chromem "github.com/philippgille/chromem-go"
)

// RetrieveOptions shapes a query. The zero value asks for the 5 best chunks
// of every collection with no token budget.
type RetrieveOptions struct {
	// K is the most chunks returned (default 5).
	K int
	// MaxTokens bounds the summed Tokens of the returned chunks; 0 means no
	// budget. A chunk that does not fit is skipped and smaller, less similar
	// ones may still be taken, so the budget is used well.
	MaxTokens int
	// Collections limits the search (default: all of Collections).
	Collections []string
	// Where keeps only chunks whose metadata has these exact values, e.g.
	// {"paper": "Attention Is All You Need"} or {"repo": "myrepo"}.
	Where map[string]string
	// MinScore drops chunks less similar than this.
	MinScore float32
}

// candidatesPerResult is how many nearest neighbours are fetched per wanted
// chunk, so de-duplication and the token budget still leave K to choose from.
const candidatesPerResult = 4

// Retrieve returns up to K chunks most similar to query, best first, within
// the token budget, with near-duplicates removed: a chunk whose normalised
// text equals, or is contained in, one already chosen is skipped. Each chunk
// carries its Source so a prompt can cite it. An empty index gives no chunks
// and no error.
func (ix *Index) Retrieve(ctx context.Context, query string, opts RetrieveOptions) ([]Chunk, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("rag: retrieve: empty query")
	}
	if opts.K <= 0 {
		opts.K = 5
	}
	vec, err := ix.embedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("rag: retrieve: %w", err)
	}
	chunks, err := ix.retrieveVector(ctx, vec, opts)
	if err != nil {
		return nil, fmt.Errorf("rag: retrieve: %w", err)
	}
	return chunks, nil
}

func (ix *Index) embedQuery(ctx context.Context, query string) ([]float32, error) {
	if off, ok := ix.emb.(*Offline); ok {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		return off.embedQuery(query, ix.df), nil
	}
	vecs, err := ix.emb.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("embed query: embedder %s returned %d vectors for 1 text", ix.emb.Name(), len(vecs))
	}
	ix.mu.RLock()
	dim := ix.man.Dim
	ix.mu.RUnlock()
	if dim != 0 && len(vecs[0]) != dim {
		return nil, fmt.Errorf("%w: embedder %s returned a %d-dimensional query vector but the index holds %d-dimensional vectors; rebuild the index with `r2c index --rebuild`",
			ErrEmbedderMismatch, ix.emb.Name(), len(vecs[0]), dim)
	}
	return vecs[0], nil
}

// retrieveVector is Retrieve after the query has been embedded.
func (ix *Index) retrieveVector(ctx context.Context, vec []float32, opts RetrieveOptions) ([]Chunk, error) {
	names := opts.Collections
	if len(names) == 0 {
		names = Collections
	}
	q := make([]float32, len(vec))
	copy(q, vec)
	normalize(q)
	var cands []Chunk
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, name := range names {
		flat := ix.flat[name]
		if flat == nil {
			return nil, fmt.Errorf("unknown collection %q (have %s)", name, strings.Join(Collections, ", "))
		}
		if flat.len() == 0 {
			continue
		}
		if len(q) != flat.dim {
			return nil, fmt.Errorf("%w: a %d-dimensional query against %d-dimensional vectors", ErrEmbedderMismatch, len(q), flat.dim)
		}
		// K past the collection's size asks for all of it; clamping first
		// keeps K*candidatesPerResult from overflowing.
		want := min(opts.K, flat.len()) * candidatesPerResult
		for _, h := range flat.search(q, want, opts.Where) {
			d, err := ix.cols[name].GetByID(ctx, flat.ids[h.row])
			if err != nil {
				return nil, fmt.Errorf("query %s: %w", name, err)
			}
			cands = append(cands, chunkFromDocument(name, d, h.score))
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score > cands[j].Score })
	return selectChunks(cands, opts), nil
}

// selectChunks applies MinScore, de-duplication, K and the token budget to
// candidates sorted best first.
func selectChunks(cands []Chunk, opts RetrieveOptions) []Chunk {
	var out []Chunk
	var seen []string // normalised texts of chosen chunks
	tokens := 0
	for _, c := range cands {
		if len(out) == opts.K {
			break
		}
		if c.Score < opts.MinScore {
			break
		}
		norm := normalizeForDedup(c.Text)
		dup := false
		for _, s := range seen {
			if strings.Contains(s, norm) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if opts.MaxTokens > 0 && tokens+c.Tokens > opts.MaxTokens {
			continue
		}
		tokens += c.Tokens
		seen = append(seen, norm)
		out = append(out, c)
	}
	return out
}

// normalizeForDedup lower-cases text and collapses everything but letters
// and digits to single spaces, so whitespace and punctuation differences do
// not hide a duplicate.
func normalizeForDedup(text string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// chunkFromDocument builds a result from a stored document (GetByID returns
// a copy, so the metadata map is the caller's to keep).
func chunkFromDocument(collection string, d chromem.Document, score float32) Chunk {
	return Chunk{
		ID:         d.ID,
		Collection: collection,
		Text:       d.Content,
		Source:     sourceOf(collection, d.Metadata),
		Metadata:   d.Metadata,
		Score:      score,
		Tokens:     estimateTokens(d.Content),
	}
}

// Passage formats the chunk for a prompt: its citation in brackets, then
// its text, so the model can name the section, page or file it used.
func (c Chunk) Passage() string {
	return "[" + c.Source + "]\n" + c.Text
}

// estimateTokens approximates a text's size in model tokens: about 4 bytes
// a token for English prose and code in Llama- and GPT-style tokenizers.
func estimateTokens(text string) int { return (len(text) + 3) / 4 }

// sourceOf builds a chunk's citation from its metadata.
func sourceOf(collection string, md map[string]string) string {
	switch collection {
	case Papers:
		var b strings.Builder
		b.WriteString(firstNonEmpty(md["file"], md["paper"]))
		if md["section"] != "" || md["title"] != "" {
			b.WriteString(" §")
			b.WriteString(strings.TrimSpace(md["section"] + " " + md["title"]))
		}
		if md["kind"] == "equation" && md["equation"] != "" {
			fmt.Fprintf(&b, ", eq. (%s)", md["equation"])
		}
		if md["page"] != "" && md["page"] != "0" {
			fmt.Fprintf(&b, ", p. %s", md["page"])
		}
		return b.String()
	case Code:
		s := md["repo"] + "/" + md["path"]
		if md["repo"] == "" {
			s = md["path"]
		}
		s += ":" + md["start_line"] + "-" + md["end_line"]
		if md["symbol"] != "" {
			s += " (" + md["symbol"] + ")"
		}
		return s
	}
	return collection
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
