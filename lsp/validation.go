package lsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// validateDocument runs core.Validate on an open module — its buffer text,
// not the file on disk, with open buffers winning over disk for its
// siblings and tests — publishes the diagnostics and returns the core's
// result (core.Summarize). Progress is reported and cancellable.
func (s *Server) validateDocument(ctx context.Context, d *document, token protocol.ProgressToken) (*core.ValidateResult, error) {
	snap := d.snapshot()
	if !isPython(snap.lang, snap.path) {
		return nil, invalidParams("r2c.validate: %s is not a Python module", snap.uri)
	}
	cfg := s.config()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := filepath.Base(snap.path)
	wd := s.progress.start(ctx, "r2c: Validate "+name, "syntax, tests and style", token, cancel)
	defer wd.end("failed: internal error (see the log)") // only if no other end was sent: a panic

	rep, err := core.Validate(ctx, core.ValidateRequest{
		Module: snap.path, Text: snap.text, Root: s.rootDir(), Config: &cfg, Profile: s.styleProfile(),
		Files: core.Files{Open: s.openText}, FrontDoor: runstore.FrontDoorLSP,
		Progress: func(msg string) { wd.report(msg, 10) },
	})
	if err != nil || ctx.Err() != nil {
		// A report that raced a cancellation describes a killed run: it
		// is never published.
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Validate module: "+core.Hint(err))
		return nil, fmt.Errorf("validate %s: %w", name, err)
	}

	// Publish per file: the module (at the version validated) and any test
	// file the failures point into.
	enc := s.encoding()
	byFile := map[string][]validate.Diagnostic{}
	for _, vd := range rep.Diagnostics {
		byFile[vd.Path] = append(byFile[vd.Path], vd)
	}
	moduleKey := name
	for key, found := range byFile {
		var idx *lineIndex
		var u uri.URI
		version, seq := int32(-1), uint64(0)
		if key == moduleKey {
			idx, u, version, seq = snap.index, snap.uri, snap.version, snap.seq
		} else {
			p, ok := rep.Paths[key]
			if !ok {
				p = filepath.Join(filepath.Dir(snap.path), filepath.FromSlash(key))
			}
			u = fileURI(p)
			if od := s.docs.get(u); od != nil {
				osnap := od.snapshot()
				idx, version, seq = osnap.index, osnap.version, osnap.seq
			} else {
				text, _ := s.fileText(p)
				idx = newLineIndex(text)
			}
		}
		list := make([]protocol.Diagnostic, len(found))
		for i, vd := range found {
			list[i] = validateDiagnostic(idx, enc, vd)
		}
		s.diags.setValidate(u, version, seq, list)
	}
	if _, ok := byFile[moduleKey]; !ok {
		s.diags.setValidate(snap.uri, snap.version, snap.seq, nil)
	}

	res := core.Summarize(snap.path, rep)
	wd.end(res.Message)
	return res, nil
}

func validateDiagnostic(idx *lineIndex, enc encoding, vd validate.Diagnostic) protocol.Diagnostic {
	sev := protocol.DiagnosticSeverity(vd.Severity)
	if sev < 1 || sev > 4 {
		sev = protocol.DiagnosticSeverity(style.SeverityError)
	}
	src := vd.Source
	if src == "" {
		src = sourceValidate
	}
	return protocol.Diagnostic{
		Range:    toProtocolRange(idx, enc, vd.Range),
		Severity: sev,
		Code:     protocol.String(vd.Code),
		Source:   protocol.NewOptional(src),
		Message:  protocol.String(strings.TrimSpace(vd.Message)),
	}
}

// openText returns the text of a file open in the editor.
func (s *Server) openText(path string) ([]byte, bool) {
	if d := s.docs.get(fileURI(path)); d != nil {
		return d.snapshot().text, true
	}
	return nil, false
}

// fileText returns a file's open-buffer text, else its content on disk.
func (s *Server) fileText(path string) ([]byte, bool) {
	if b, ok := s.openText(path); ok {
		return b, true
	}
	b, err := os.ReadFile(path)
	return b, err == nil
}

func (s *Server) encoding() encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc
}
