// Package rag is r2c's retrieval store: chunks of papers and of the user's
// own Python code, embedded and kept in a chromem-go database on disk, so the
// Analyzer and the Implementer can put the most relevant passages (with their
// section, page, file and lines) into their prompts.
//
// The package is split by concept: index.go (the Index and its on-disk
// identity), update.go (incremental indexing), sources.go (which files),
// chunk_paper.go and chunk_code.go (how sources become chunks), seams.go
// (the paper and style packages behind them), embed_offline.go and
// embed_http.go (the two embedders), retrieve.go (top-k within a token
// budget), flat.go (the vector scan queries run on) and persist.go (atomic
// writes).
//
// An index lives in one folder (by default .r2c/index). Its commit point is
// manifest.json, replaced atomically after the data files it names have been
// written completely, so a crash at any moment leaves the previous index
// readable. The manifest records the embedder's name and dimension: opening an
// index with a different embedder is an error that says how to fix it, never
// a silent mix of incomparable vectors.
package rag

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	chromem "github.com/philippgille/chromem-go"
)

// Collection names.
const (
	Papers = "papers" // sections and paragraphs of papers, equations kept whole
	Code   = "code"   // functions and classes of the user's repositories
)

// Collections lists every collection an index holds, in a fixed order.
var Collections = []string{Papers, Code}

// Chunk is one retrieved passage.
type Chunk struct {
	ID         string `json:"id"`
	Collection string `json:"collection"` // Papers or Code
	Text       string `json:"text"`
	// Source is a human-readable citation: "attention.pdf §3.2 Scaled
	// Dot-Product Attention, p. 4" or "myrepo/models/attn.py:12-40 (MultiHead)".
	Source string `json:"source"`
	// Metadata holds the fields Source is built from. Papers: paper, file,
	// section, title, page, kind (text|equation|table|algorithm) and, for
	// equations, equation. Code: repo, path (inside the repository), file,
	// symbol, kind (function|class|method|module|lines), start_line and
	// end_line (1-based, inclusive).
	Metadata map[string]string `json:"metadata"`
	// Score is the cosine similarity to the query, in [-1, 1].
	Score float32 `json:"score"`
	// Tokens is the estimated prompt size of Text (about 4 bytes a token).
	Tokens int `json:"tokens"`
}

// Index is an open retrieval index. It is safe for concurrent use: queries
// run in parallel with each other, and with the embedding phase of Update;
// Update's short final phase (apply and save) excludes queries.
type Index struct {
	dir string
	emb Embedder

	// update serialises Update calls; mu guards the fields below it.
	update sync.Mutex
	mu     sync.RWMutex
	db     *chromem.DB
	cols   map[string]*chromem.Collection
	flat   map[string]*flatVectors // what queries scan; mirrors cols
	man    *manifest
	df     *docFreq // corpus statistics for the offline embedder's IDF; nil for others
	// ignoreDisk is set by Create until the first save: the index in the
	// folder is being replaced, not updated.
	ignoreDisk bool
}

// ErrEmbedderMismatch is wrapped by Open and Update when the index was built
// with another embedder (name or dimension) than the one given.
var ErrEmbedderMismatch = errors.New("embedder mismatch")

// Open opens the index in dir, or an empty one when dir holds none yet
// (nothing is written until the first Update). emb must be the embedder the
// index was built with; when it is not, the error wraps ErrEmbedderMismatch
// and names both. A manifest that names missing or damaged data files is an
// error naming the file; Open never repairs by discarding data.
func Open(dir string, emb Embedder) (*Index, error) {
	if emb == nil {
		return nil, errors.New("rag: open: nil embedder")
	}
	for attempt := 1; ; attempt++ {
		man, err := readManifest(dir)
		if err != nil {
			return nil, fmt.Errorf("rag: open %s: %w", dir, err)
		}
		if openHook != nil {
			openHook()
		}
		ix, err := open(dir, emb, man)
		if err == nil || attempt == maxOpenAttempts || !errors.Is(err, fs.ErrNotExist) {
			return ix, err
		}
		// A writer committed while this reader was between the manifest
		// and its data files, and removed the files the old manifest
		// named: read the new manifest rather than report damage.
		if now, rerr := readManifest(dir); rerr != nil || now == nil || (now.Data == man.Data && now.DocFreq == man.DocFreq) {
			return nil, err
		}
	}
}

// maxOpenAttempts bounds Open's retries when writers keep committing.
const maxOpenAttempts = 5

// openHook, when set by a test, runs in Open between reading the manifest
// and reading the data files it names.
var openHook func()

// Create returns an empty index for dir, ignoring whatever index is there:
// the first Update replaces it (atomically, like every save), so until then
// the old index stays readable. Use it to rebuild after changing embedders.
func Create(dir string, emb Embedder) (*Index, error) {
	if emb == nil {
		return nil, errors.New("rag: create: nil embedder")
	}
	ix, err := open(dir, emb, nil)
	if err != nil {
		return nil, err
	}
	ix.ignoreDisk = true
	return ix, nil
}

func open(dir string, emb Embedder, man *manifest) (*Index, error) {
	ix := &Index{dir: dir, emb: emb}
	if man == nil {
		man = newManifest(emb)
	} else if err := checkEmbedder(man, emb, dir); err != nil {
		return nil, fmt.Errorf("rag: open: %w", err)
	}
	var stored map[string]map[string]*chromem.Document
	if man.Data != "" {
		var err error
		if stored, err = loadData(dir, man); err != nil {
			return nil, fmt.Errorf("rag: open %s: %w", dir, err)
		}
	}
	if _, ok := emb.(*Offline); ok {
		df, err := loadDocFreq(dir, man)
		if err != nil {
			return nil, fmt.Errorf("rag: open %s: %w", dir, err)
		}
		ix.df = df
	}
	db := chromem.NewDB()
	cols := make(map[string]*chromem.Collection, len(Collections))
	for _, name := range Collections {
		c, err := db.GetOrCreateCollection(name, nil, refuseToEmbed)
		if err != nil {
			return nil, fmt.Errorf("rag: open %s: collection %s: %w", dir, name, err)
		}
		cols[name] = c
	}
	ix.db, ix.cols, ix.man = db, cols, man
	ix.flat = map[string]*flatVectors{}
	ctx := context.Background()
	for _, name := range Collections {
		f := newFlatVectors()
		for _, entry := range man.Files[name] {
			for _, id := range entry.Chunks {
				d := stored[name][id]
				if d == nil || d.ID != id {
					return nil, fmt.Errorf("rag: open %s: the manifest lists chunk %s, which the data file lacks; remove the folder and re-index", dir, id)
				}
				// chromem keeps a unit vector as it is, so the collection
				// and the query arrays share one array.
				makeUnit(d.Embedding)
				if err := cols[name].AddDocument(ctx, *d); err != nil {
					return nil, fmt.Errorf("rag: open %s: chunk %s: %w", dir, id, err)
				}
				f.add(id, d.Metadata, d.Embedding)
			}
		}
		ix.flat[name] = f
	}
	return ix, nil
}

// refuseToEmbed is given to chromem as every collection's embedding function:
// the index always supplies vectors itself, so a call means a bug, and must
// not fall back to chromem's default (OpenAI over the network).
func refuseToEmbed(context.Context, string) ([]float32, error) {
	return nil, errors.New("rag: internal error: chromem asked to embed a text")
}

func checkEmbedder(man *manifest, emb Embedder, dir string) error {
	dim := emb.Dim()
	if man.Embedder != emb.Name() || (dim != 0 && man.Dim != 0 && man.Dim != dim) {
		return fmt.Errorf("%w: the index in %s was built with embedder %q (%d dimensions) but %q (%s) is configured; "+
			"set index.embedder/index.embedding_model back, or rebuild the index with `r2c index --rebuild`",
			ErrEmbedderMismatch, dir, man.Embedder, man.Dim, emb.Name(), dimString(dim))
	}
	return nil
}

func dimString(dim int) string {
	if dim == 0 {
		return "dimensions not known before the first request"
	}
	return fmt.Sprintf("%d dimensions", dim)
}

// Dir returns the folder the index lives in.
func (ix *Index) Dir() string { return ix.dir }

// Embedder returns the embedder the index was opened with.
func (ix *Index) Embedder() Embedder { return ix.emb }

// Count returns the number of chunks in a collection (0 for an unknown name).
func (ix *Index) Count(collection string) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if c := ix.cols[collection]; c != nil {
		return c.Count()
	}
	return 0
}

// FileInfo describes one indexed file.
type FileInfo struct {
	Collection, Path, Hash string
	Chunks                 int
}

// Files lists the indexed files, sorted by collection and path.
func (ix *Index) Files() []FileInfo {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []FileInfo
	for col, files := range ix.man.Files {
		for path, f := range files {
			out = append(out, FileInfo{Collection: col, Path: path, Hash: f.Hash, Chunks: len(f.Chunks)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Collection != out[j].Collection {
			return out[i].Collection < out[j].Collection
		}
		return out[i].Path < out[j].Path
	})
	return out
}
