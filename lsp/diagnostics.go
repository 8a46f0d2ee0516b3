package lsp

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/style"
)

// Diagnostic sources, shown by editors next to each message.
const (
	sourceStyle    = "r2c-style"
	sourceSyntax   = "r2c-syntax"
	sourceTest     = "r2c-test"
	sourceValidate = "r2c"
)

// diagnostics owns what is published per document: live style findings,
// recomputed (debounced) after every change, and the last Validator result,
// which is dropped as soon as the document changes because its ranges
// describe text that no longer exists.
type diagnostics struct {
	s *Server

	mu      sync.Mutex
	stopped bool
	m       map[uri.URI]*diagState
}

type diagState struct {
	timer *time.Timer
	// quietAfter is when the last check started or will start, plus the
	// debounce delay: a change after it, with no check pending, is checked
	// at once (the leading edge); a change before it waits for the delay
	// (the trailing edge), so a burst of typing costs one check.
	quietAfter time.Time

	styleSeq   uint64             // the document.seq styleRaw was computed for; 0: none
	styleRaw   []style.Diagnostic // with fixes, for code actions
	styleIndex *lineIndex         // the text styleRaw's positions refer to
	style      []protocol.Diagnostic

	validate []protocol.Diagnostic
}

func newDiagnostics(s *Server) *diagnostics {
	return &diagnostics{s: s, m: make(map[uri.URI]*diagState)}
}

func (dg *diagnostics) state(u uri.URI) *diagState {
	st := dg.m[u]
	if st == nil {
		st = &diagState{}
		dg.m[u] = st
	}
	return st
}

// schedule (re)starts the debounce timer of d: of a burst of changes, the
// first is checked at once, since nothing is pending and the user waits for
// it, and then only the last change within delay of the one before.
func (dg *diagnostics) schedule(d *document, delay time.Duration) {
	seq := d.snapshot().seq
	dg.mu.Lock()
	defer dg.mu.Unlock()
	if dg.stopped {
		return
	}
	st := dg.state(d.uri)
	pending := st.timer != nil && st.timer.Stop()
	now := time.Now()
	if !pending && !now.Before(st.quietAfter) {
		delay = 0
	}
	st.quietAfter = now.Add(delay + dg.s.config().Server.DebounceDelay())
	st.timer = time.AfterFunc(delay, func() {
		dg.s.goBackground("style diagnostics", func(context.Context) { dg.run(d, seq) })
	})
}

// changed drops the Validator's diagnostics of a document that was edited
// or reopened.
func (dg *diagnostics) changed(d *document) {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	if st := dg.m[d.uri]; st != nil {
		st.validate = nil
	}
}

// run checks d at text seq and publishes, unless d has moved on meanwhile.
func (dg *diagnostics) run(d *document, seq uint64) {
	s := dg.s
	cfg := s.config()
	profile := s.styleProfile()
	enabled := cfg.Style.Diagnostics == nil || *cfg.Style.Diagnostics

	d.mu.Lock()
	if d.seq != seq {
		d.mu.Unlock()
		return // stale: the newer change has its own run scheduled
	}
	var raw []style.Diagnostic
	if d.isPython() && enabled && d.style != nil {
		raw = d.style.Check(profile).Diagnostics
	}
	snap, styleErr := d.snapshotLocked(), d.styleErr
	warn := styleErr != nil && d.isPython() && !d.styleErrShown
	if warn {
		d.styleErrShown = true
	}
	d.mu.Unlock()
	if styleErr != nil && d.isPython() {
		s.log.eventf("style: %s: %v", snap.path, styleErr)
	}
	if warn && enabled {
		// Otherwise the silence would read as "no problems found".
		s.showMessage(protocol.MessageTypeInfo, fmt.Sprintf("r2c: %s: %v; style diagnostics are off for it (\"r2c: Validate module\" still works).", filepath.Base(snap.path), styleErr))
	}

	s.mu.Lock()
	enc := s.enc
	s.mu.Unlock()
	converted := make([]protocol.Diagnostic, 0, len(raw))
	for _, r := range raw {
		converted = append(converted, styleDiagnostic(snap.index, enc, r))
	}

	dg.mu.Lock()
	defer dg.mu.Unlock()
	st := dg.m[d.uri]
	if dg.stopped || st == nil || dg.s.docs.get(d.uri) != d {
		return // closed meanwhile
	}
	if d.snapshot().seq != seq {
		return // stale result: never publish diagnostics for an old version
	}
	st.styleSeq, st.styleRaw, st.styleIndex, st.style = seq, raw, snap.index, converted
	dg.publishLocked(d.uri, snap.version, st)
}

// setValidate publishes Validator diagnostics for a document whose text
// had sequence number seq (0: a file that is not open) and client version.
func (dg *diagnostics) setValidate(u uri.URI, version int32, seq uint64, diags []protocol.Diagnostic) {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	if dg.stopped {
		return
	}
	d := dg.s.docs.get(u)
	if d != nil && d.snapshot().seq != seq {
		return // the buffer changed (or was opened) while validating: these ranges are stale
	}
	if d == nil && seq != 0 {
		return // closed while validating
	}
	st := dg.state(u)
	st.validate = diags
	dg.publishLocked(u, version, st)
}

// publishLocked sends the union of live style and Validator diagnostics.
// The Validator's own style findings are left out when live ones exist:
// they are the same findings, computed on the same text. A syntax error is
// the other way round: the Validator's comes from CPython, the live one from
// tree-sitter's guess at the same spot, so while a Validator result with a
// syntax error stands (it is dropped on the next edit) the live
// r2c-syntax diagnostics are left out and each error shows once.
func (dg *diagnostics) publishLocked(u uri.URI, version int32, st *diagState) {
	all := make([]protocol.Diagnostic, 0, len(st.style)+len(st.validate))
	validatedSyntax := false
	for _, v := range st.validate {
		if src, _ := v.Source.Get(); src == sourceSyntax {
			validatedSyntax = true
		}
	}
	for _, d := range st.style {
		if src, _ := d.Source.Get(); src == sourceSyntax && validatedSyntax {
			continue
		}
		all = append(all, d)
	}
	for _, v := range st.validate {
		if src, _ := v.Source.Get(); src == sourceStyle && st.styleSeq != 0 {
			continue
		}
		all = append(all, v)
	}
	p := &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: all}
	if version >= 0 {
		p.Version = protocol.NewOptional(version)
	}
	dg.s.notify(protocol.MethodTextDocumentPublishDiagnostics, p)
}

// styleFindings returns the style diagnostics of d at its current text,
// from the last run when it is current, else by checking now, with the
// snapshot of the text they describe (which may be newer than one the
// caller took before).
func (dg *diagnostics) styleFindings(d *document) ([]style.Diagnostic, snapshot) {
	snap := d.snapshot()
	dg.mu.Lock()
	if st := dg.m[d.uri]; st != nil && st.styleSeq == snap.seq && st.styleIndex == snap.index {
		raw := st.styleRaw
		dg.mu.Unlock()
		return raw, snap
	}
	dg.mu.Unlock()
	profile := dg.s.styleProfile()
	d.mu.Lock()
	defer d.mu.Unlock()
	snap = d.snapshotLocked()
	if d.style == nil {
		return nil, snap
	}
	return d.style.Check(profile).Diagnostics, snap
}

// forget clears a closed document's diagnostics in the editor.
func (dg *diagnostics) forget(u uri.URI) {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	if st := dg.m[u]; st != nil && st.timer != nil {
		st.timer.Stop()
	}
	delete(dg.m, u)
	if !dg.stopped {
		dg.s.notify(protocol.MethodTextDocumentPublishDiagnostics, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}})
	}
}

// recheckAll re-runs style diagnostics on every open document (after the
// configuration or the profile changed).
func (dg *diagnostics) recheckAll() {
	for _, d := range dg.s.docs.all() {
		dg.schedule(d, 0)
	}
}

func (dg *diagnostics) stop() {
	dg.mu.Lock()
	defer dg.mu.Unlock()
	dg.stopped = true
	for _, st := range dg.m {
		if st.timer != nil {
			st.timer.Stop()
		}
	}
}

// styleDiagnostic converts a style finding into an LSP diagnostic.
func styleDiagnostic(idx *lineIndex, enc encoding, d style.Diagnostic) protocol.Diagnostic {
	sev := protocol.DiagnosticSeverity(d.Severity)
	if sev < 1 || sev > 4 {
		sev = protocol.DiagnosticSeverity(style.SeverityWarning)
	}
	src := sourceStyle
	if d.Rule == style.RuleSyntaxError {
		src = sourceSyntax
	}
	return protocol.Diagnostic{
		Range:    toProtocolRange(idx, enc, d.Range),
		Severity: sev,
		Code:     protocol.String(d.Rule),
		Source:   protocol.NewOptional(src),
		Message:  protocol.String(strings.TrimSpace(d.Message)),
	}
}

func toProtocolRange(idx *lineIndex, enc encoding, r style.Range) protocol.Range {
	return protocol.Range{
		Start: idx.fromByteCol(enc, r.Start.Line, r.Start.Column),
		End:   idx.fromByteCol(enc, r.End.Line, r.End.Column),
	}
}
