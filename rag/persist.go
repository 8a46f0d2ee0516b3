package rag

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/r2c-ai/r2c/internal/atomicfile"

	chromem "github.com/philippgille/chromem-go"
)

// On-disk layout of an index folder:
//
//	manifest.json           the commit point: embedder, file hashes, data file names
//	chunks-<sha256>.gob.gz  chromem-go export of every collection
//	df-<sha256>.bin.gz      document frequencies (offline embedder only)
//
// Data files are content-addressed and written to a temporary name, synced
// and renamed before the manifest that names them is itself replaced by
// rename. A crash before that last rename leaves the old manifest pointing at
// old, complete files; a crash after it leaves the new one complete. Files no
// manifest names any more are removed after a successful commit.

const (
	manifestName    = "manifest.json"
	manifestVersion = 1
	tempPrefix      = atomicfile.TempPrefix
)

// manifest is the index's table of contents.
type manifest struct {
	// Version is "schema_version" like in every file r2c writes; older
	// manifests name it "version" (LegacyVersion, read only).
	Version       int    `json:"schema_version"`
	LegacyVersion int    `json:"version,omitempty"`
	Embedder      string `json:"embedder"`
	Dim           int    `json:"dim"`
	// Data names the chromem-go export and DataSHA256 its checksum.
	Data       string `json:"data,omitempty"`
	DataSHA256 string `json:"data_sha256,omitempty"`
	DocFreq    string `json:"doc_freq,omitempty"`
	DocFreqSHA string `json:"doc_freq_sha256,omitempty"`
	// Files maps collection → absolute path → what was indexed from it.
	Files   map[string]map[string]fileEntry `json:"files"`
	Updated time.Time                       `json:"updated"`
}

// fileEntry records one indexed file: its content hash and the chunk IDs it
// produced, so an unchanged file is skipped and a removed one is deleted.
type fileEntry struct {
	Hash   string   `json:"sha256"`
	Chunks []string `json:"chunks"`
}

func newManifest(emb Embedder) *manifest {
	return &manifest{Version: manifestVersion, Embedder: emb.Name(), Dim: emb.Dim(), Files: map[string]map[string]fileEntry{}}
}

// readManifest returns nil, nil when dir holds no index yet.
func readManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); remove the folder and re-index", manifestName, err)
	}
	if m.Version == 0 {
		m.Version, m.LegacyVersion = m.LegacyVersion, 0
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("%s has format version %d, this r2c reads %d; re-index with `r2c index --rebuild`", manifestName, m.Version, manifestVersion)
	}
	if m.Files == nil {
		m.Files = map[string]map[string]fileEntry{}
	}
	return &m, nil
}

// storedDB is the shape of chromem-go's export (DB.ExportToWriter): gob
// matches fields by name, so the export decodes into it directly.
type storedDB struct {
	Collections map[string]*struct {
		Name      string
		Metadata  map[string]string
		Documents map[string]*chromem.Document
	}
}

// loadData reads the manifest's chromem export after checking its
// checksum, so a damaged file is reported, not half-read. It returns the
// documents by collection and id. The index decodes the export itself
// rather than through DB.ImportFromReader: chromem hands out only copies
// of what it holds, and the query arrays must share its vectors, not keep
// second copies.
func loadData(dir string, man *manifest) (map[string]map[string]*chromem.Document, error) {
	b, err := readChecked(dir, man.Data, man.DataSHA256)
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(b)
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", man.Data, err)
		}
		r = zr
	}
	var db storedDB
	if err := gob.NewDecoder(r).Decode(&db); err != nil {
		return nil, fmt.Errorf("read %s: %w", man.Data, err)
	}
	out := make(map[string]map[string]*chromem.Document, len(db.Collections))
	for name, c := range db.Collections {
		if c != nil {
			out[name] = c.Documents
		}
	}
	return out, nil
}

func loadDocFreq(dir string, man *manifest) (*docFreq, error) {
	if man.DocFreq == "" {
		return newDocFreq(), nil
	}
	b, err := readChecked(dir, man.DocFreq, man.DocFreqSHA)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(man.DocFreq, sparseDocFreqSuffix) {
		df, err := decodeSparseDocFreq(b)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", man.DocFreq, err)
		}
		return df, nil
	}
	// The dense form of indexes written before 2026-12-04: every count,
	// gzipped.
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", man.DocFreq, err)
	}
	df := newDocFreq()
	var n uint64
	if err := binary.Read(zr, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("read %s: %w", man.DocFreq, err)
	}
	dense := make([]uint32, 1<<dfBits)
	if err := readCounts(zr, dense); err != nil {
		return nil, fmt.Errorf("read %s: %w", man.DocFreq, err)
	}
	for slot, c := range dense {
		if c != 0 {
			df.counts[uint32(slot)] = c
		}
	}
	df.N = int64(n)
	return df, nil
}

// sparseDocFreqSuffix names the document-frequency file holding only the
// buckets that are not zero. The table has 2^20 buckets and a code base
// fills a few tens of thousands; the dense form had to be inflated to
// 4 MiB on every open, 3-4 ms before each run's Analyzer.
const sparseDocFreqSuffix = ".sparse"

// encodeSparseDocFreq writes df as uvarints: N, the number of slots in
// use, then for each, in order, its distance from the previous one and its
// count.
func encodeSparseDocFreq(df *docFreq) []byte {
	slots := slices.Sorted(maps.Keys(df.counts))
	b := make([]byte, 0, 16+len(slots)*4)
	b = binary.AppendUvarint(b, uint64(df.N))
	b = binary.AppendUvarint(b, uint64(len(slots)))
	prev := int64(-1)
	for _, slot := range slots {
		b = binary.AppendUvarint(b, uint64(int64(slot)-prev))
		b = binary.AppendUvarint(b, uint64(df.counts[slot]))
		prev = int64(slot)
	}
	return b
}

func decodeSparseDocFreq(b []byte) (*docFreq, error) {
	next := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errors.New("truncated or invalid document frequencies")
		}
		b = b[n:]
		return v, nil
	}
	n, err := next()
	if err != nil {
		return nil, err
	}
	k, err := next()
	if err != nil {
		return nil, err
	}
	const slots = 1 << dfBits
	if n > math.MaxInt64 || k > slots {
		return nil, errors.New("document frequencies out of range")
	}
	df := &docFreq{N: int64(n), counts: make(map[uint32]uint32, k)}
	at := int64(-1)
	for range k {
		gap, err := next()
		if err != nil {
			return nil, err
		}
		c, err := next()
		if err != nil {
			return nil, err
		}
		if gap == 0 || gap > uint64(slots-1-at) || c == 0 || c > math.MaxUint32 {
			return nil, errors.New("document frequencies out of range")
		}
		at += int64(gap)
		df.counts[uint32(at)] = uint32(c)
	}
	if len(b) != 0 {
		return nil, errors.New("trailing bytes after the document frequencies")
	}
	return df, nil
}

// readCounts fills counts from r's little-endian uint32s. On a
// little-endian machine the bytes go straight into the slice: binary.Read
// would decode them from a second 4 MiB buffer, which was most of the time
// an index took to open (and so of the time before every run's Analyzer).
func readCounts(r io.Reader, counts []uint32) error {
	if len(counts) == 0 || binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return binary.Read(r, binary.LittleEndian, counts)
	}
	_, err := io.ReadFull(r, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(counts))), len(counts)*4))
	return err
}

func readChecked(dir, name, sum string) ([]byte, error) {
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("%s names an invalid data file %q; remove the folder and re-index", manifestName, name)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%s names %s, which cannot be read (%w); remove the folder and re-index", manifestName, name, err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%s is damaged (checksum mismatch); remove the folder and re-index", filepath.Join(dir, name))
	}
	return b, nil
}

// saveHook, when set by a test, runs between the steps of save (after
// "data", "docfreq" and "manifest-temp"); an error it returns aborts the
// save as a crash would, leaving whatever was written so far.
var saveHook func(step string) error

// save writes the index's current state and commits it by replacing the
// manifest. The caller holds ix.mu (for writing).
func (ix *Index) save() error {
	if err := os.MkdirAll(ix.dir, 0o755); err != nil {
		return err
	}
	man := *ix.man
	man.Updated = time.Now().UTC()

	name, sum, err := writeAddressed(ix.dir, "chunks-", ".gob.gz", func(w io.Writer) error {
		return ix.db.ExportToWriter(w, true, "")
	})
	if err != nil {
		return fmt.Errorf("write chunks: %w", err)
	}
	man.Data, man.DataSHA256 = name, sum
	if err := runSaveHook("data"); err != nil {
		return err
	}
	if ix.df != nil {
		name, sum, err := writeAddressed(ix.dir, "df-", sparseDocFreqSuffix, func(w io.Writer) error {
			_, err := w.Write(encodeSparseDocFreq(ix.df))
			return err
		})
		if err != nil {
			return fmt.Errorf("write document frequencies: %w", err)
		}
		man.DocFreq, man.DocFreqSHA = name, sum
		if err := runSaveHook("docfreq"); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(&man, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(ix.dir, manifestName), b, 0o600, func() error { return runSaveHook("manifest-temp") }); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	*ix.man = man
	removeUnreferenced(ix.dir, &man)
	return nil
}

func runSaveHook(step string) error {
	if saveHook == nil {
		return nil
	}
	return saveHook(step)
}

// writeAddressed streams write's output to a temporary file in dir, then
// renames it to prefix+sha256+suffix and returns that name and checksum.
func writeAddressed(dir, prefix, suffix string, write func(io.Writer) error) (name, sum string, err error) {
	f, err := os.CreateTemp(dir, tempPrefix+prefix+"*")
	if err != nil {
		return "", "", err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if err = write(bw); err != nil {
		return "", "", err
	}
	if err = bw.Flush(); err != nil {
		return "", "", err
	}
	if err = f.Sync(); err != nil {
		return "", "", err
	}
	if err = f.Close(); err != nil {
		return "", "", err
	}
	sum = hexSum(h)
	name = prefix + sum[:16] + suffix
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return "", "", err
	}
	return name, sum, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// removeUnreferenced deletes data files and temporaries the manifest does not
// name (left by earlier saves or crashes). Failures only waste disk space.
func removeUnreferenced(dir string, man *manifest) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		stale := strings.HasPrefix(n, tempPrefix) ||
			(strings.HasPrefix(n, "chunks-") && n != man.Data) ||
			(strings.HasPrefix(n, "df-") && n != man.DocFreq)
		if stale && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
