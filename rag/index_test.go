package rag

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// writeTree writes files (relative path → content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countingEmbedder is the offline embedder with a count of the texts it was
// asked to embed, an oracle for "not re-embedded".
type countingEmbedder struct {
	*Offline
	texts atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	return c.Offline.Embed(ctx, texts)
}

// sampleCode is a small repository whose files are distinct enough for
// queries to find each one.
var sampleCode = map[string]string{
	"attention.py": `import math


def scaled_dot_product(q, k, v):
    """Attention weights from queries and keys, applied to values."""
    scores = q @ k.T / math.sqrt(k.shape[-1])
    return softmax(scores) @ v
`,
	"optim/schedule.py": `def warmup_cosine(step, warmup, total, peak):
    """Linear warm-up then cosine decay of the learning rate."""
    if step < warmup:
        return peak * step / warmup
    progress = (step - warmup) / (total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * progress))
`,
	"data/loader.py": `class ShardedLoader:
    """Reads tokenised shards from disk and packs them into batches."""

    def __init__(self, paths, batch_size):
        self.paths = paths
        self.batch_size = batch_size

    def __iter__(self):
        for path in self.paths:
            yield from read_shard(path, self.batch_size)
`,
}

func buildSample(t *testing.T, emb Embedder) (dir, repo string, ix *Index) {
	t.Helper()
	repo = filepath.Join(t.TempDir(), "repo")
	writeTree(t, repo, sampleCode)
	dir = filepath.Join(t.TempDir(), "index")
	ix, err := Create(dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir, repo, ix
}

func retrieveIDs(t *testing.T, ix *Index, query string) []string {
	t.Helper()
	chunks, err := ix.Retrieve(context.Background(), query, RetrieveOptions{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range chunks {
		ids = append(ids, fmt.Sprintf("%s %.6f", c.ID, c.Score))
	}
	return ids
}

func TestPersistenceRoundTrip(t *testing.T) {
	dir, repo, ix := buildSample(t, NewOffline(0))
	const query = "learning rate warm-up and cosine decay"
	before := retrieveIDs(t, ix, query)
	if len(before) == 0 {
		t.Fatal("no results before reopening")
	}

	again, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := again.Count(Code), ix.Count(Code); got != want || got == 0 {
		t.Fatalf("reopened index has %d code chunks, want %d", got, want)
	}
	// The document frequencies the offline embedder weighs a query with
	// come back exactly.
	if again.df == nil || again.df.N != ix.df.N || !maps.Equal(again.df.counts, ix.df.counts) || ix.df.N == 0 {
		t.Fatalf("document frequencies differ after reopening (N %d, want %d)", again.df.N, ix.df.N)
	}
	if after := retrieveIDs(t, again, query); !slices.Equal(before, after) {
		t.Fatalf("results differ after reopening:\nbefore %v\nafter  %v", before, after)
	}
	// The manifest's hashes are the files' SHA-256, computed here
	// independently.
	files := again.Files()
	if len(files) != len(sampleCode) {
		t.Fatalf("reopened index lists %d files, want %d: %+v", len(files), len(sampleCode), files)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(repo, f.Path)
		sum := sha256.Sum256([]byte(sampleCode[filepath.ToSlash(rel)]))
		if f.Hash != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: manifest hash %s is not the file's SHA-256", rel, f.Hash)
		}
	}
	chunks, err := again.Retrieve(context.Background(), query, RetrieveOptions{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c := chunks[0]; c.Metadata["path"] != "optim/schedule.py" || c.Metadata["repo"] != "repo" || !strings.Contains(c.Text, "def warmup_cosine") {
		t.Fatalf("top chunk after reopening: %+v", c)
	}
}

func TestOpenEmptyFolderWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := ix.Retrieve(context.Background(), "anything", RetrieveOptions{})
	if err != nil || len(chunks) != 0 {
		t.Fatalf("empty index: %v, %v", chunks, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("opening created %s (%v)", dir, err)
	}
}

func TestEmbedderMismatchIsAnError(t *testing.T) {
	dir, _, _ := buildSample(t, NewOffline(384))

	_, err := Open(dir, NewOffline(128))
	if !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("open with another dimension: %v, want ErrEmbedderMismatch", err)
	}
	for _, want := range []string{"offline-ngram-v1", "384", "128", "--rebuild"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	_, err = Open(dir, namedEmbedder{"openai:bge-small", 384})
	if !errors.Is(err, ErrEmbedderMismatch) || !strings.Contains(err.Error(), "openai:bge-small") {
		t.Fatalf("open with another model: %v", err)
	}

	// Create ignores the old index, so a rebuild with the new embedder works
	// and then opens with it.
	ix, err := Create(dir, NewOffline(128))
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(t.TempDir(), "other")
	writeTree(t, repo, map[string]string{"x.py": "def f():\n    return 1\n"})
	if _, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, NewOffline(128)); err != nil {
		t.Fatalf("open after rebuild: %v", err)
	}
	if _, err := Open(dir, NewOffline(384)); !errors.Is(err, ErrEmbedderMismatch) {
		t.Fatalf("old embedder after rebuild: %v", err)
	}
}

// namedEmbedder reports a name and dimension without embedding anything.
type namedEmbedder struct {
	name string
	dim  int
}

func (n namedEmbedder) Name() string { return n.name }
func (n namedEmbedder) Dim() int     { return n.dim }
func (n namedEmbedder) Embed(context.Context, []string) ([][]float32, error) {
	return nil, errors.New("namedEmbedder does not embed")
}

// snapshot is what must survive a crash: the file list and a query's answer.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ix, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	var b strings.Builder
	for _, f := range ix.Files() {
		fmt.Fprintf(&b, "%s %s %d\n", f.Path, f.Hash, f.Chunks)
	}
	fmt.Fprintln(&b, retrieveIDs(t, ix, "sharded loader batches"))
	return b.String()
}

// modifyRepo changes one file and adds another, so the next save differs.
func modifyRepo(t *testing.T, repo string) {
	writeTree(t, repo, map[string]string{
		"data/loader.py": sampleCode["data/loader.py"] + "\n\ndef read_shard(path, n):\n    return open(path).read(n)\n",
		"eval.py":        "def perplexity(loss):\n    return math.exp(loss)\n",
	})
}

// TestFailedSaveKeepsPreviousIndex stops a save after each of its steps, as
// a crash would, and checks that the folder still opens as the previous
// index; the next successful save removes the leftovers.
func TestFailedSaveKeepsPreviousIndex(t *testing.T) {
	for _, step := range []string{"data", "docfreq", "manifest-temp"} {
		t.Run(step, func(t *testing.T) {
			dir, repo, ix := buildSample(t, NewOffline(0))
			want := snapshot(t, dir)
			modifyRepo(t, repo)
			saveHook = func(s string) error {
				if s == step {
					return errors.New("simulated crash")
				}
				return nil
			}
			_, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
			saveHook = nil
			if err == nil || !strings.Contains(err.Error(), "simulated crash") {
				t.Fatalf("update: %v, want the simulated crash", err)
			}
			if got := snapshot(t, dir); got != want {
				t.Fatalf("index changed by a failed save:\nbefore\n%s\nafter\n%s", want, got)
			}

			// The same Index dropped the unsaved changes: it still
			// matches the disk, and retrying redoes the whole update and
			// commits it; stale files go.
			if got := len(ix.Files()); got != len(sampleCode) {
				t.Fatalf("in memory after the failed save: %d files, want %d", got, len(sampleCode))
			}
			st, err := ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Added != 1 || st.Changed != 1 {
				t.Fatalf("re-index after failure: %+v", st)
			}
			assertNoLeftovers(t, dir)
			if got := snapshot(t, dir); got == want {
				t.Fatal("the retried update was not saved")
			}
		})
	}
}

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	chunks, dfs := 0, 0
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "chunks-"):
			chunks++
		case strings.HasPrefix(n, "df-"):
			dfs++
		case n == manifestName, n == ".lock":
		default:
			t.Errorf("leftover %s in %v", n, names)
		}
	}
	if chunks != 1 || dfs != 1 {
		t.Errorf("want one chunks and one df file, have %v", names)
	}
}

// TestTwoWriters: an Index opened before another process committed builds
// on that commit instead of overwriting it, and a writer holding the lock
// turns a second one away with a clear message.
func TestTwoWriters(t *testing.T) {
	dir, _, first := buildSample(t, NewOffline(0))
	second, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	writeTree(t, other, map[string]string{"extra.py": "def extra():\n    return 42\n"})
	if _, err := first.Update(context.Background(), Sources{Code: []string{other}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	papers := filepath.Join("testdata", "papers", "sparse-experts.md")
	if _, err := second.Update(context.Background(), Sources{Papers: []string{papers}}, UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	final, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(final.Files()), len(sampleCode)+2; got != want {
		t.Fatalf("after two writers: %d files, want %d: %+v", got, want, final.Files())
	}

	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = second.Update(context.Background(), Sources{Code: []string{other}}, UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), "another process is updating") {
		t.Fatalf("update while locked: %v", err)
	}
}

func TestDamagedDataFileIsReported(t *testing.T) {
	dir, _, _ := buildSample(t, NewOffline(0))
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, man.Data)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, NewOffline(0))
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), man.Data) {
		t.Fatalf("open of a truncated data file: %v", err)
	}
}

// crashChildEnv makes the test binary act as an indexing process that parks
// at a save step until it is killed.
const crashChildEnv = "R2C_RAG_CRASH_CHILD"

// TestKilledDuringSave kills a real indexing process (SIGKILL) while it is
// inside a save, at each step, and opens the folder afterwards.
func TestKilledDuringSave(t *testing.T) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		crashChild(spec)
		return
	}
	for _, step := range []string{"data", "docfreq", "manifest-temp"} {
		t.Run(step, func(t *testing.T) {
			dir, repo, _ := buildSample(t, NewOffline(0))
			want := snapshot(t, dir)
			modifyRepo(t, repo)

			cmd := exec.Command(os.Args[0], "-test.run=^TestKilledDuringSave$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+strings.Join([]string{dir, repo, step}, "\n"))
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdin, err := cmd.StdinPipe() // never closed: the child blocks on it
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "parked "+step+"\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q, %v", line, err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			if got := snapshot(t, dir); got != want {
				t.Fatalf("index changed by a killed save:\nbefore\n%s\nafter\n%s", want, got)
			}
		})
	}
}

func crashChild(spec string) {
	parts := strings.Split(spec, "\n")
	dir, repo, step := parts[0], parts[1], parts[2]
	saveHook = func(s string) error {
		if s == step {
			fmt.Printf("parked %s\n", s)
			os.Stdout.Sync()
			bufio.NewReader(os.Stdin).ReadString('\n') // until killed
		}
		return nil
	}
	ix, err := Open(dir, NewOffline(0))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	_, err = ix.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
	fmt.Println("update finished without being killed:", err)
	os.Exit(1)
}

// TestOpenWhileWriterCommits: a reader that has read the manifest when a
// writer commits (and removes the data files the old manifest named) opens
// the new index. Before, Open failed with "manifest.json names chunks-...,
// which cannot be read; remove the folder and re-index".
func TestOpenWhileWriterCommits(t *testing.T) {
	dir, _, writer := buildSample(t, NewOffline(0))
	other := filepath.Join(t.TempDir(), "other")
	writeTree(t, other, map[string]string{"extra.py": "def extra():\n    return 42\n"})
	commits := 0
	openHook = func() {
		if commits > 0 {
			return
		}
		commits++
		if _, err := writer.Update(context.Background(), Sources{Code: []string{other}}, UpdateOptions{}); err != nil {
			t.Errorf("writer: %v", err)
		}
	}
	defer func() { openHook = nil }()
	reader, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatalf("open during a commit: %v", err)
	}
	if commits != 1 || len(reader.Files()) != len(sampleCode)+1 {
		t.Errorf("commits %d; reader sees %d files, want %d", commits, len(reader.Files()), len(sampleCode)+1)
	}
	chunks, err := reader.Retrieve(context.Background(), "extra returns 42", RetrieveOptions{K: 1})
	if err != nil || len(chunks) != 1 || chunks[0].Metadata["symbol"] != "extra" {
		t.Errorf("reader's query: %+v %v", chunks, err)
	}
}

// TestSecondProcessIsTurnedAway: while another process is in the middle
// of saving (it holds the folder's flock), an update here is refused at
// once with a clear message, a reader here still opens and queries the
// last committed index, and once that process dies the lock is gone.
func TestSecondProcessIsTurnedAway(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("parent only")
	}
	dir, repo, _ := buildSample(t, NewOffline(0))
	want := snapshot(t, dir)
	modifyRepo(t, repo)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledDuringSave$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+strings.Join([]string{dir, repo, "data"}, "\n"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "parked data\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	here, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatalf("reader while another process saves: %v", err)
	}
	if ids := retrieveIDs(t, here, "attention weights"); len(ids) == 0 {
		t.Error("reader found nothing")
	}
	_, err = here.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), "another process is updating") {
		t.Fatalf("update while another process holds the lock: %v", err)
	}
	if got := snapshot(t, dir); got != want {
		t.Fatal("the refused update changed the index")
	}

	cmd.Process.Kill()
	cmd.Wait()
	st, err := here.Update(context.Background(), Sources{Code: []string{repo}}, UpdateOptions{})
	if err != nil || st.Changed+st.Added == 0 {
		t.Fatalf("update after the other process died: %+v %v", st, err)
	}
}

// TestDocFreqFormats checks the sparse document-frequency file against the
// dense gzipped form that indexes written before it hold: an index whose
// manifest names a dense file opens with the same counts and answers the
// same, and a re-save writes the sparse form. Damaged sparse data is an
// error, never a panic or counts out of range.
func TestDocFreqFormats(t *testing.T) {
	dir, _, ix := buildSample(t, NewOffline(0))
	const query = "learning rate warm-up and cosine decay"
	want := retrieveIDs(t, ix, query)
	man, err := readManifest(dir)
	if err != nil || !strings.HasSuffix(man.DocFreq, sparseDocFreqSuffix) {
		t.Fatalf("the index was saved with document frequencies %q (%v), want the sparse form", man.DocFreq, err)
	}

	// Rewrite the index the way the earlier code did: dense, gzipped.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	dense := make([]uint32, 1<<dfBits)
	for slot, c := range ix.df.counts {
		dense[slot] = c
	}
	binary.Write(zw, binary.LittleEndian, uint64(ix.df.N))
	binary.Write(zw, binary.LittleEndian, dense)
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	old := man.DocFreq
	man.DocFreq, man.DocFreqSHA = "df-dense.bin.gz", hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(dir, man.DocFreq), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.Marshal(man)
	if err := os.WriteFile(filepath.Join(dir, manifestName), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, old))
	reopened, err := Open(dir, NewOffline(0))
	if err != nil {
		t.Fatalf("an index with dense document frequencies: %v", err)
	}
	if reopened.df.N != ix.df.N || !maps.Equal(reopened.df.counts, ix.df.counts) {
		t.Fatal("the dense form read back other counts")
	}
	if got := retrieveIDs(t, reopened, query); !slices.Equal(got, want) {
		t.Fatalf("results from the dense form differ:\n got %v\nwant %v", got, want)
	}

	good := encodeSparseDocFreq(ix.df)
	if df, err := decodeSparseDocFreq(good); err != nil || df.N != ix.df.N || !maps.Equal(df.counts, ix.df.counts) {
		t.Fatalf("sparse round trip: %v", err)
	}
	if len(good) > 64<<10 {
		t.Errorf("sparse document frequencies take %d bytes for %d documents", len(good), ix.df.N)
	}
	for name, bad := range map[string][]byte{
		"empty":         {},
		"truncated":     good[:len(good)/2],
		"trailing":      append(append([]byte{}, good...), 0),
		"too many":      binary.AppendUvarint(binary.AppendUvarint(nil, 1), 1<<21),
		"past the end":  binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 1), 1), 1<<20+1), 1),
		"zero gap":      binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 1), 1), 0), 1),
		"zero count":    binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 1), 1), 1), 0),
		"count too big": binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 1), 1), 1), 1<<32),
	} {
		if _, err := decodeSparseDocFreq(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
