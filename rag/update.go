package rag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	chromem "github.com/philippgille/chromem-go"
	"github.com/r2c-ai/r2c/style"
	"github.com/sourcegraph/conc/pool"
)

// Sources names what an Update indexes. Each entry is a file or a folder.
type Sources struct {
	// Papers: .pdf, .md, .tex and .txt files (folders are searched).
	Papers []string
	// Code: Python files; in a git repository only the files git tracks or
	// would track (not ignored), and never virtual environments or vendored
	// trees.
	Code []string
}

// UpdateOptions tunes an Update. The zero value is ready to use.
type UpdateOptions struct {
	// Concurrency bounds the Embed calls in flight (default: the number of
	// CPUs for the offline embedder, 4 for a server).
	Concurrency int
	// BatchSize is the number of texts per Embed call (default 32).
	BatchSize int
	// Progress, when set, is called as work advances, never concurrently.
	Progress func(Progress)
}

// Progress reports an Update's advance: Stage is "scan", "chunk", "embed" or
// "save"; Done of Total units (files, or chunks for "embed").
type Progress struct {
	Stage       string
	Done, Total int
	Path        string // the file just handled, when there is one
}

// UpdateStats counts what an Update did. File counts are per collection
// entry: Added (new), Changed (content differs), Unchanged (skipped, not
// re-embedded) and Removed (gone from a scanned folder, or no longer
// eligible). A file in Failed is in none of them.
type UpdateStats struct {
	Added, Changed, Unchanged, Removed int
	// Chunks is the number of chunks written for added and changed files;
	// Embedded of them went to the embedder, Reused kept the vector of an
	// identical chunk of the file's previous version.
	Chunks, Embedded, Reused int
	// Failed lists files that could not be read or parsed; they are left as
	// they were in the index.
	Failed []FileError
}

// FileError is one file an Update could not index.
type FileError struct {
	Path string
	Err  error
}

func (e FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Update brings the index in line with the given sources and saves it
// atomically. Unchanged files (same SHA-256) are not re-embedded; files that
// were indexed under a given folder and are no longer there are removed.
// Sources not named are left alone. Errors with single files are collected
// in UpdateStats.Failed; an error return means nothing was committed.
func (ix *Index) Update(ctx context.Context, src Sources, opts UpdateOptions) (*UpdateStats, error) {
	ix.update.Lock()
	defer ix.update.Unlock()
	st := &UpdateStats{}
	unlock, err := lockDir(ix.dir)
	if err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	defer unlock()
	if err := ix.reloadIfChanged(); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	u := &updater{ix: ix, st: st, opts: opts}
	if opts.Progress != nil {
		u.progress = func(p Progress) {
			u.progressMu.Lock()
			defer u.progressMu.Unlock()
			opts.Progress(p)
		}
	} else {
		u.progress = func(Progress) {}
	}
	if err := u.scan(ctx, Papers, src.Papers); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	if err := u.scan(ctx, Code, src.Code); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	if err := u.chunk(ctx); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	if err := u.embed(ctx); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	if err := u.commit(ctx); err != nil {
		return st, fmt.Errorf("rag: update: %w", err)
	}
	return st, nil
}

// updater carries one Update's work between its stages.
type updater struct {
	ix         *Index
	st         *UpdateStats
	opts       UpdateOptions
	progress   func(Progress)
	progressMu sync.Mutex

	todo    []*fileWork         // added and changed files
	removed map[string][]string // collection → paths to drop
}

// fileWork is one added or changed file.
type fileWork struct {
	collection, path, hash string
	content                []byte
	repo, rel              string // code only
	chunks                 []pendingChunk
	ids                    []string
	vectors                [][]float32
	failed                 bool
	isNew                  bool // counted as Added (else as Changed)
}

// scan lists the files under roots, hashes them and sorts them into
// unchanged, added and changed; indexed files under roots that were not
// found are marked removed.
func (u *updater) scan(ctx context.Context, collection string, roots []string) error {
	if len(roots) == 0 {
		return nil
	}
	if u.removed == nil {
		u.removed = map[string][]string{}
	}
	// Only Update changes the manifest, and Update calls are serialised,
	// so this map is stable until commit.
	u.ix.mu.RLock()
	indexed := u.ix.man.Files[collection]
	u.ix.mu.RUnlock()
	seen := map[string]bool{}
	var absRoots []string
	var files []listedFile
	for _, root := range roots {
		abs, err := filepath.Abs(root)
		if err != nil {
			return err
		}
		absRoots = append(absRoots, abs)
		found, err := listFiles(ctx, collection, abs)
		if errors.Is(err, fs.ErrNotExist) && hasUnder(indexed, abs) {
			continue // indexed before and gone now: removed below
		}
		if err != nil {
			return err
		}
		files = append(files, found...)
	}
	// A file both found in a folder and named on its own is the user's
	// explicit choice: it is indexed even if generated.
	named, generated := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		if !f.skipGenerated {
			named[f.path] = true
		}
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		u.progress(Progress{Stage: "scan", Done: i + 1, Total: len(files), Path: f.path})
		if seen[f.path] {
			continue
		}
		seen[f.path] = true
		content, err := os.ReadFile(f.path)
		if err != nil {
			u.st.Failed = append(u.st.Failed, FileError{f.path, err})
			continue
		}
		if f.skipGenerated && !named[f.path] && style.IsGenerated(content) {
			// If an earlier version was indexed, it is removed below.
			generated[f.path] = true
			continue
		}
		sum := sha256.Sum256(content)
		hash := hex.EncodeToString(sum[:])
		old, ok := indexed[f.path]
		switch {
		case ok && old.Hash == hash:
			u.st.Unchanged++
			continue
		case ok:
			u.st.Changed++
		default:
			u.st.Added++
		}
		u.todo = append(u.todo, &fileWork{collection: collection, path: f.path, hash: hash, content: content, repo: f.repo, rel: f.rel, isNew: !ok})
	}
	for path := range indexed {
		if seen[path] && !generated[path] {
			continue
		}
		for _, r := range absRoots {
			if isUnder(path, r) {
				u.removed[collection] = append(u.removed[collection], path)
				u.st.Removed++
				break
			}
		}
	}
	return nil
}

func hasUnder(files map[string]fileEntry, root string) bool {
	for p := range files {
		if isUnder(p, root) {
			return true
		}
	}
	return false
}

func isUnder(path, root string) bool {
	return path == root || strings.HasPrefix(path, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// chunk turns each added or changed file into chunks. A file that fails is
// recorded and keeps its previous chunks.
func (u *updater) chunk(ctx context.Context) error {
	for i, w := range u.todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		u.progress(Progress{Stage: "chunk", Done: i + 1, Total: len(u.todo), Path: w.path})
		var err error
		switch w.collection {
		case Papers:
			w.chunks, err = paperChunks(ctx, w.path, w.content)
		case Code:
			w.chunks, err = codeChunks(w.content, w.repo, w.rel)
		}
		if err != nil {
			u.st.Failed = append(u.st.Failed, FileError{w.path, err})
			w.failed = true
			if w.isNew {
				u.st.Added--
			} else {
				u.st.Changed--
			}
			continue
		}
		for j, c := range w.chunks {
			c.md["file"] = firstNonEmpty(c.md["file"], filepath.Base(w.path))
			w.ids = append(w.ids, chunkID(w.collection, w.path, j, c.text))
		}
	}
	return nil
}

// paperChunks loads a paper with the paper package and chunks it. A panic
// in a parser (PDF libraries have them on malformed files) becomes this
// file's error instead of ending the whole update.
func paperChunks(ctx context.Context, path string, content []byte) (chunks []pendingChunk, err error) {
	defer func() {
		if r := recover(); r != nil {
			chunks, err = nil, fmt.Errorf("parser crashed: %v", r)
		}
	}()
	if loadPaper == nil {
		return nil, errors.New("paper support is not built into this r2c")
	}
	doc, err := loadPaper(ctx, path, content)
	if err != nil {
		return nil, err
	}
	return chunkPaper(doc, filepath.Base(path)), nil
}

// codeChunks chunks a Python file by its definitions; a file tree-sitter
// cannot parse is still indexed, in windows of lines.
func codeChunks(src []byte, repo, rel string) ([]pendingChunk, error) {
	var syms []codeSymbol
	if parseSymbols != nil {
		s, err := safeSymbols(src)
		if err == nil {
			syms = s
			if syms == nil {
				syms = []codeSymbol{}
			}
		}
	}
	return chunkCode(src, syms, repo, rel), nil
}

// safeSymbols is parseSymbols with a panic turned into an error (the file
// is then chunked by lines).
func safeSymbols(src []byte) (syms []codeSymbol, err error) {
	defer func() {
		if r := recover(); r != nil {
			syms, err = nil, fmt.Errorf("parser crashed: %v", r)
		}
	}()
	return parseSymbols(src)
}

// chunkID is stable for the same text at the same place, so re-indexing an
// unchanged file would give the same IDs.
func chunkID(collection, path string, ordinal int, text string) string {
	h := sha256.New()
	for _, s := range []string{collection, path, strconv.Itoa(ordinal), text} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// embed computes the vectors of every new chunk, concurrently and bounded,
// reusing the vector of an identical chunk in the file's previous version.
func (u *updater) embed(ctx context.Context) error {
	type job struct {
		w *fileWork
		i int
	}
	var jobs []job
	u.ix.mu.RLock()
	for _, w := range u.todo {
		if w.failed {
			continue
		}
		w.vectors = make([][]float32, len(w.chunks))
		old := u.oldVectors(w)
		for i, c := range w.chunks {
			u.st.Chunks++
			if v, ok := old[embedText(w.collection, c.md, c.text)]; ok {
				w.vectors[i] = v
				u.st.Reused++
				continue
			}
			jobs = append(jobs, job{w, i})
		}
	}
	u.ix.mu.RUnlock()
	u.st.Embedded = len(jobs)

	batch := u.opts.BatchSize
	if batch <= 0 {
		batch = 32
	}
	conc := u.opts.Concurrency
	if conc <= 0 {
		conc = 4
		if _, ok := u.ix.emb.(*Offline); ok {
			conc = runtime.GOMAXPROCS(0)
		}
	}
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(conc)
	var doneMu sync.Mutex
	done := 0
	for start := 0; start < len(jobs); start += batch {
		part := jobs[start:min(start+batch, len(jobs))]
		p.Go(func(ctx context.Context) error {
			texts := make([]string, len(part))
			for k, j := range part {
				c := j.w.chunks[j.i]
				texts[k] = embedText(j.w.collection, c.md, c.text)
			}
			vecs, err := u.ix.emb.Embed(ctx, texts)
			if err != nil {
				return fmt.Errorf("embed %s: %w", part[0].w.path, err)
			}
			if len(vecs) != len(texts) {
				return fmt.Errorf("embedder %s returned %d vectors for %d texts", u.ix.emb.Name(), len(vecs), len(texts))
			}
			for k, j := range part {
				j.w.vectors[j.i] = vecs[k]
			}
			// Reported under the lock that counts, so that the counts reach
			// the caller in order even when two batches finish together.
			doneMu.Lock()
			done += len(part)
			u.progress(Progress{Stage: "embed", Done: done, Total: len(jobs), Path: part[len(part)-1].w.path})
			doneMu.Unlock()
			return nil
		})
	}
	return p.Wait()
}

// oldVectors maps the texts of a changed file's previous chunks to their
// vectors. The caller holds ix.mu for reading.
func (u *updater) oldVectors(w *fileWork) map[string][]float32 {
	old := map[string][]float32{}
	entry, ok := u.ix.man.Files[w.collection][w.path]
	if !ok {
		return old
	}
	col := u.ix.cols[w.collection]
	for _, id := range entry.Chunks {
		if d, err := col.GetByID(context.Background(), id); err == nil {
			old[embedText(w.collection, d.Metadata, d.Content)] = d.Embedding
		}
	}
	return old
}

// commit applies removals and additions to the collections, the document
// frequencies and the manifest, then saves. It holds ix.mu for writing, so
// queries wait only for this phase.
func (u *updater) commit(ctx context.Context) error {
	ix := u.ix
	// Check the vectors' dimension before touching anything.
	dim := ix.man.Dim
	for _, w := range u.todo {
		for _, v := range w.vectors {
			if v == nil {
				continue
			}
			if dim == 0 {
				dim = len(v)
			}
			if len(v) != dim {
				return fmt.Errorf("%w: embedder %s returned %d-dimensional vectors but the index holds %d-dimensional ones; rebuild the index with `r2c index --rebuild`",
					ErrEmbedderMismatch, ix.emb.Name(), len(v), dim)
			}
		}
	}
	changes := 0
	for _, w := range u.todo {
		if !w.failed {
			changes++
		}
	}
	for _, paths := range u.removed {
		changes += len(paths)
	}
	if changes == 0 {
		return nil
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	for col, paths := range u.removed {
		for _, p := range paths {
			ix.dropFile(ctx, col, p)
		}
	}
	for _, w := range u.todo {
		if w.failed {
			continue
		}
		ix.dropFile(ctx, w.collection, w.path)
		var ids []string
		for i, c := range w.chunks {
			if !normalizable(w.vectors[i]) {
				continue // no features at all: nothing a query could match
			}
			if err := ix.addChunk(ctx, w.collection, chromem.Document{ID: w.ids[i], Metadata: c.md, Embedding: w.vectors[i], Content: c.text}); err != nil {
				if rerr := ix.revert(); rerr != nil {
					err = errors.Join(err, rerr)
				}
				return fmt.Errorf("add %s: %w", w.path, err)
			}
			ids = append(ids, w.ids[i])
		}
		files := ix.man.Files[w.collection]
		if files == nil {
			files = map[string]fileEntry{}
			ix.man.Files[w.collection] = files
		}
		files[w.path] = fileEntry{Hash: w.hash, Chunks: ids}
	}
	ix.man.Dim = dim
	u.progress(Progress{Stage: "save", Done: 0, Total: 1})
	if err := ix.save(); err != nil {
		if rerr := ix.revert(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("the index in memory no longer matches the disk: %w", rerr))
		}
		return fmt.Errorf("save %s: %w", ix.dir, err)
	}
	ix.ignoreDisk = false
	u.progress(Progress{Stage: "save", Done: 1, Total: 1})
	return nil
}

// dropFile removes a file's chunks and manifest entry. The caller holds
// ix.mu for writing.
func (ix *Index) dropFile(ctx context.Context, collection, path string) {
	entry, ok := ix.man.Files[collection][path]
	if !ok {
		return
	}
	col := ix.cols[collection]
	for _, id := range entry.Chunks {
		if d, err := col.GetByID(ctx, id); err == nil {
			ix.countTerms(collection, d.Metadata, d.Content, -1)
		}
	}
	if len(entry.Chunks) > 0 { // chromem deletes everything when given no IDs
		_ = col.Delete(ctx, nil, nil, entry.Chunks...)
	}
	for _, id := range entry.Chunks {
		ix.flat[collection].remove(id)
	}
	delete(ix.man.Files[collection], path)
}

// reloadIfChanged reads the index again when another process has committed
// since it was opened, so this update builds on that commit instead of
// silently dropping it. The caller holds the folder lock.
func (ix *Index) reloadIfChanged() error {
	if ix.ignoreDisk {
		return nil
	}
	man, err := readManifest(ix.dir)
	if err != nil || man == nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if man.Data == ix.man.Data && man.DataSHA256 == ix.man.DataSHA256 {
		return nil
	}
	return ix.replaceWith(man)
}

// replaceWith swaps the index's state for the one man describes (nil: an
// empty index). The caller holds ix.mu for writing.
func (ix *Index) replaceWith(man *manifest) error {
	fresh, err := open(ix.dir, ix.emb, man)
	if err != nil {
		return err
	}
	ix.db, ix.cols, ix.flat, ix.man, ix.df = fresh.db, fresh.cols, fresh.flat, fresh.man, fresh.df
	return nil
}

// revert drops the changes a failed save had applied in memory, so the
// index again matches what is on disk (or is empty, before Create's first
// save). The caller holds ix.mu for writing.
func (ix *Index) revert() error {
	var man *manifest
	if !ix.ignoreDisk {
		var err error
		if man, err = readManifest(ix.dir); err != nil {
			return err
		}
	}
	return ix.replaceWith(man)
}

// addChunk stores one chunk in its collection and in the query arrays. The
// caller holds ix.mu for writing.
func (ix *Index) addChunk(ctx context.Context, collection string, doc chromem.Document) error {
	vec := make([]float32, len(doc.Embedding))
	copy(vec, doc.Embedding)
	normalize(vec)
	doc.Embedding = vec // chromem keeps it (a unit vector), and so does flat: one copy
	if err := ix.cols[collection].AddDocument(ctx, doc); err != nil {
		return err
	}
	ix.flat[collection].add(doc.ID, doc.Metadata, vec)
	ix.countTerms(collection, doc.Metadata, doc.Content, +1)
	return nil
}

// makeUnit normalises v unless chromem-go already counts it as a unit
// vector. chromem replaces a vector it does not count as one by a
// normalised copy, which the query arrays would not share.
func makeUnit(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if math.Abs(math.Sqrt(sum)-1) >= 1e-6 { // chromem's isNormalized tolerance
		normalize(v)
	}
}

// normalizable reports whether v has a direction (chromem-go divides by the
// norm, so a zero vector would become NaNs).
func normalizable(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}

// countTerms keeps the offline embedder's document frequencies in step with
// the chunks.
func (ix *Index) countTerms(collection string, md map[string]string, text string, delta int) {
	off, ok := ix.emb.(*Offline)
	if !ok || ix.df == nil {
		return
	}
	ix.df.add(off.terms(embedText(collection, md, text)), delta)
}
