package lsp

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// The text-synchronisation handlers run inline on the read loop, so they
// apply in wire order and a request that follows a change sees it. They only
// update the store and schedule diagnostics; checking happens off the loop.

func (s *Server) didOpen(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidOpenTextDocumentParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := s.docs.open(p.TextDocument)
	// A second didOpen without didClose replaces the buffer: what was
	// found in the old text (the Validator's ranges) no longer applies.
	s.diags.changed(d)
	if d.isPython() {
		s.hintMissingProfile()
	}
	s.diags.schedule(d, 0)
	return nil, nil
}

func (s *Server) didChange(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidChangeTextDocumentParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := s.docs.get(p.TextDocument.URI)
	if d == nil {
		return nil, invalidParams("%s is not open", p.TextDocument.URI)
	}
	s.mu.Lock()
	enc := s.enc
	s.mu.Unlock()
	stale, err := d.applyChanges(enc, p.TextDocument.Version, p.ContentChanges)
	if stale {
		s.log.eventf("%s: didChange version %d does not increase; applied anyway to stay in step with the editor", p.TextDocument.URI, p.TextDocument.Version)
	}
	if err != nil {
		return nil, err
	}
	s.diags.changed(d)
	s.diags.schedule(d, s.config().Server.DebounceDelay())
	return nil, nil
}

func (s *Server) didClose(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidCloseTextDocumentParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	s.docs.remove(p.TextDocument.URI)
	s.diags.forget(p.TextDocument.URI)
	return nil, nil
}

func (s *Server) didSave(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidSaveTextDocumentParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := s.docs.get(p.TextDocument.URI)
	if d == nil || !d.isPython() {
		return nil, nil
	}
	if v := s.config().Server.ValidateOnSave; v != nil && *v {
		s.goBackground("validate on save", func(ctx context.Context) {
			_, _ = s.validateDocument(ctx, d, nil)
		})
	}
	return nil, nil
}
