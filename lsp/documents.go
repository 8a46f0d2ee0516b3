package lsp

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/style"
)

// document is one open editor buffer. Its text is replaced, never mutated,
// on every change, so a snapshot taken under mu stays valid after it is
// released; the incremental style document is mutable and is only touched
// under mu.
type document struct {
	mu      sync.Mutex
	uri     uri.URI
	path    string
	lang    string
	version int32 // the client's version number, echoed in publications and edits
	// seq identifies this text among every text the server has held: it
	// changes on every change and every (re)open. Staleness is decided by
	// seq, never by version, because a client may reopen a document with
	// a version it used before or (against the specification) send
	// versions that go backwards.
	seq   uint64
	text  []byte
	index *lineIndex
	style *style.Document // Python only; nil when style cannot parse it
	// styleErr says why style is nil for a Python document (too large, binary).
	styleErr error
	// styleErrShown: the user was told about styleErr (once per open).
	styleErrShown bool
}

// textSeq numbers document texts; see document.seq.
var textSeq atomic.Uint64

// snapshot is an immutable view of a document at one version.
type snapshot struct {
	uri     uri.URI
	path    string
	lang    string
	version int32
	seq     uint64
	text    []byte
	index   *lineIndex
}

func (d *document) snapshot() snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshotLocked()
}

func (d *document) snapshotLocked() snapshot {
	return snapshot{uri: d.uri, path: d.path, lang: d.lang, version: d.version, seq: d.seq, text: d.text, index: d.index}
}

// isPython reports whether the document is Python source.
func (d *document) isPython() bool { return isPython(d.lang, d.path) }

func isPython(lang, path string) bool {
	return lang == "python" || strings.HasSuffix(path, ".py") || strings.HasSuffix(path, ".pyi")
}

// isPaperText reports whether the document may be a paper (Markdown, LaTeX, text).
func isPaperText(lang, path string) bool {
	switch lang {
	case "markdown", "tex", "latex", "plaintext":
		return true
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown", ".tex", ".txt":
		return true
	}
	return false
}

// byteEdit is one change in byte offsets of the text it applies to.
type byteEdit struct {
	start, oldEnd int
	text          []byte
}

// applyChanges applies LSP content changes in order, all or nothing, and
// moves the incremental style document along. Positions are in enc.
//
// A version that does not increase breaks the specification, but the
// change is applied all the same: dropping it would leave the server's text
// out of step with the editor's for the rest of the session, and every
// later diagnostic and edit would be computed on text the user does not
// see. stale reports the irregularity so the caller can log it.
func (d *document) applyChanges(enc encoding, version int32, changes []protocol.TextDocumentContentChangeEvent) (stale bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	stale = version <= d.version
	text, index := d.text, d.index
	var edits []byteEdit
	full := false
	for i, ch := range changes {
		switch c := ch.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			text = []byte(c.Text)
			index = newLineIndex(text)
			edits, full = nil, true
		case *protocol.TextDocumentContentChangePartial:
			start, err := index.offset(enc, c.Range.Start)
			if err != nil {
				return stale, fmt.Errorf("%s: change %d: start: %w", d.uri, i, err)
			}
			end, err := index.offset(enc, c.Range.End)
			if err != nil {
				return stale, fmt.Errorf("%s: change %d: end: %w", d.uri, i, err)
			}
			if end < start {
				return stale, fmt.Errorf("%s: change %d: range end %d:%d before start %d:%d", d.uri, i,
					c.Range.End.Line, c.Range.End.Character, c.Range.Start.Line, c.Range.Start.Character)
			}
			next := make([]byte, 0, len(text)-(end-start)+len(c.Text))
			next = append(append(append(next, text[:start]...), c.Text...), text[end:]...)
			edits = append(edits, byteEdit{start: start, oldEnd: end, text: []byte(c.Text)})
			text, index = next, newLineIndex(next)
		default:
			return stale, fmt.Errorf("%s: change %d: unknown change kind %T", d.uri, i, ch)
		}
	}
	d.text, d.index, d.version, d.seq = text, index, version, textSeq.Add(1)
	if !d.isPython() {
		return stale, nil
	}
	if full || d.style == nil {
		d.resetStyleLocked()
		return stale, nil
	}
	for _, e := range edits {
		if err := d.style.Apply(style.Edit{StartByte: e.start, OldEndByte: e.oldEnd, NewText: e.text}); err != nil {
			d.resetStyleLocked() // fall back to a full parse
			return stale, nil
		}
	}
	return stale, nil
}

// resetStyleLocked re-creates the incremental style document from the text.
func (d *document) resetStyleLocked() {
	if d.style != nil {
		d.style.Close()
		d.style = nil
	}
	sd, err := style.NewDocument(d.text)
	d.style, d.styleErr = sd, err
}

func (d *document) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.style != nil {
		d.style.Close()
		d.style = nil
	}
}

// documents is the store of open buffers, keyed by URI.
type documents struct {
	mu sync.RWMutex
	m  map[uri.URI]*document
}

func newDocuments() *documents { return &documents{m: make(map[uri.URI]*document)} }

func (ds *documents) open(item protocol.TextDocumentItem) *document {
	d := &document{
		uri:     item.URI,
		path:    item.URI.FsPath(),
		lang:    string(item.LanguageID),
		version: item.Version,
		seq:     textSeq.Add(1),
		text:    []byte(item.Text),
	}
	d.index = newLineIndex(d.text)
	if d.isPython() {
		d.resetStyleLocked()
	}
	ds.mu.Lock()
	old := ds.m[item.URI]
	ds.m[item.URI] = d
	ds.mu.Unlock()
	if old != nil {
		old.close()
	}
	return d
}

func (ds *documents) get(u uri.URI) *document {
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	return ds.m[u]
}

func (ds *documents) remove(u uri.URI) {
	ds.mu.Lock()
	d := ds.m[u]
	delete(ds.m, u)
	ds.mu.Unlock()
	if d != nil {
		d.close()
	}
}

func (ds *documents) all() []*document {
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	out := make([]*document, 0, len(ds.m))
	for _, d := range ds.m {
		out = append(out, d)
	}
	return out
}

func (ds *documents) closeAll() {
	for _, d := range ds.all() {
		ds.remove(d.uri)
	}
}
