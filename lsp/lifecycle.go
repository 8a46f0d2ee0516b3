package lsp

import (
	"context"
	"slices"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/config"
)

// clientCaps are the client capabilities the server acts on.
type clientCaps struct {
	applyEdit        bool // workspace/applyEdit
	documentChanges  bool // WorkspaceEdit.documentChanges
	createFiles      bool // resource operation "create"
	workDoneProgress bool // window/workDoneProgress/create
	watchFiles       bool // dynamic registration of workspace/didChangeWatchedFiles
	relativePatterns bool // RelativePattern globs in file watchers
	showDocument     bool // window/showDocument
}

// canApplyCreates reports whether generated files can go through
// workspace/applyEdit as CreateFile operations.
func (c clientCaps) canApplyCreates() bool {
	return c.applyEdit && c.documentChanges && c.createFiles
}

func readClientCaps(c protocol.ClientCapabilities) clientCaps {
	var cc clientCaps
	if w := c.Workspace; w != nil {
		cc.applyEdit = w.ApplyEdit != nil && *w.ApplyEdit
		if we := w.WorkspaceEdit; we != nil {
			cc.documentChanges = we.DocumentChanges != nil && *we.DocumentChanges
			cc.createFiles = slices.Contains(we.ResourceOperations, protocol.ResourceOperationKindCreate)
		}
		if fw := w.DidChangeWatchedFiles; fw != nil {
			cc.watchFiles = fw.DynamicRegistration != nil && *fw.DynamicRegistration
			cc.relativePatterns = fw.RelativePatternSupport != nil && *fw.RelativePatternSupport
		}
	}
	if w := c.Window; w != nil {
		cc.workDoneProgress = w.WorkDoneProgress != nil && *w.WorkDoneProgress
		cc.showDocument = w.ShowDocument != nil && w.ShowDocument.Support
	}
	return cc
}

// Commands the server executes (workspace/executeCommand).
const (
	CommandImplement  = "r2c.implement"
	CommandValidate   = "r2c.validate"
	CommandLearnStyle = "r2c.learnStyle"
)

func (s *Server) initialize(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.InitializeParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.state != stateStarted {
		s.mu.Unlock()
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "r2c: initialize sent twice")
	}
	var offered []protocol.PositionEncodingKind
	if g := p.Capabilities.General; g != nil {
		offered = g.PositionEncodings
	}
	s.enc = negotiateEncoding(offered)
	s.caps = readClientCaps(p.Capabilities)
	s.root = workspaceRoot(&p)
	s.mu.Unlock()

	var optsErr error
	if len(p.InitializationOptions) > 0 {
		over, err := config.ParseJSON(unwrapSettings(p.InitializationOptions))
		if err != nil {
			optsErr = err
		} else {
			s.mu.Lock()
			s.initOptions = over
			s.mu.Unlock()
		}
	}
	s.reloadConfig(optsErr)

	s.mu.Lock()
	s.state = stateInitialized
	enc := s.enc
	s.mu.Unlock()

	change := protocol.TextDocumentSyncKindIncremental
	openClose := true
	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			PositionEncoding: enc.kind(),
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: &openClose,
				Change:    &change,
				Save:      protocol.Boolean(true),
			},
			CodeActionProvider: &protocol.CodeActionOptions{
				CodeActionKinds: []protocol.CodeActionKind{
					protocol.CodeActionKindQuickFix, kindValidate, kindLearnStyle, kindImplement, kindIndexPaper,
				},
			},
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{
				Commands: []string{CommandImplement, CommandValidate, CommandLearnStyle, CommandIndexPaper, CommandSections},
			},
		},
		ServerInfo: protocol.ServerInfo{Name: "r2c", Version: protocol.NewOptional(s.opts.Version)},
	}, nil
}

// workspaceRoot is the first workspace folder, else rootUri, else rootPath.
func workspaceRoot(p *protocol.InitializeParams) string {
	if folders, ok := p.WorkspaceFolders.Get(); ok && len(folders) > 0 {
		return folders[0].URI.FsPath()
	}
	//lint:ignore SA1019 clients that predate workspace folders send only rootUri or rootPath
	if root := p.RootURI; root != nil && !root.IsZero() {
		return root.FsPath()
	}
	//lint:ignore SA1019 see above
	if path, ok := p.RootPath.Get(); ok {
		return path
	}
	return ""
}

func (s *Server) initialized(context.Context, jsonrpc2.RawMessage) (any, error) {
	s.mu.Lock()
	s.watchReady = true
	s.mu.Unlock()
	s.syncWatchers()
	return nil, nil
}

func (s *Server) shutdown(context.Context, jsonrpc2.RawMessage) (any, error) {
	s.mu.Lock()
	s.state = stateShutdown
	s.exitCode = 0
	for _, cancel := range s.inflight { // long runs stop now, not at exit
		cancel()
	}
	s.mu.Unlock()
	return nil, nil
}

func (s *Server) exit(context.Context, jsonrpc2.RawMessage) (any, error) {
	s.exitOnce.Do(func() { close(s.exited) })
	return nil, nil
}

// fileURI converts a path into the URI form editors use.
func fileURI(path string) uri.URI { return uri.File(path) }
