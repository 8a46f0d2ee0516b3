package lsp

import (
	"context"
	"fmt"
	"path/filepath"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
)

// Indexer adds papers to the retrieval index that the agents read from.
// cfg has its index folder made absolute; report is called as work
// advances with a message and an overall percentage. It returns a one-line
// summary. The server injects it (r2c serve wires the rag package), so the
// language server does not depend on the store.
type Indexer func(ctx context.Context, cfg config.Config, papers []string, report func(message string, percent float64)) (summary string, err error)

// CommandIndexPaper indexes one paper (argument {"paper": path}).
const CommandIndexPaper = "r2c.indexPaper"

// kindIndexPaper is the code action kind of "Index this paper".
const kindIndexPaper protocol.CodeActionKind = "source.r2c.indexPaper"

type indexArgs struct {
	Paper string `json:"paper"`
}

// IndexSummary is r2c.indexPaper's result.
type IndexSummary struct {
	Paper   string `json:"paper"`
	Message string `json:"message"`
}

func (s *Server) indexPaper(ctx context.Context, a indexArgs, token protocol.ProgressToken) (*IndexSummary, error) {
	if s.opts.Index == nil {
		return nil, invalidParams("%s is not available in this build of r2c", CommandIndexPaper)
	}
	if a.Paper == "" {
		return nil, invalidParams("%s needs {\"paper\": path}", CommandIndexPaper)
	}
	paper := s.workspacePath(a.Paper)
	cfg := s.config()
	if cfg.Index.Disabled {
		return nil, invalidParams("retrieval is disabled (index.disabled = true in r2c.toml)")
	}
	cfg.Index.Dir = s.workspacePath(cfg.Index.Dir)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := s.progress.start(ctx, "r2c: Index "+filepath.Base(paper), "reading the paper", token, cancel)
	defer wd.end("failed: internal error (see the log)") // only if no other end was sent: a panic
	// Read once in the isolated worker first (see paperworker.go).
	if _, err := s.readPaper(ctx, paper); err != nil {
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: Index %s: %v", filepath.Base(paper), err))
		return nil, fmt.Errorf("index %s: %w", paper, err)
	}
	summary, err := s.opts.Index(ctx, cfg, []string{paper}, wd.report)
	if err != nil {
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: Index %s: %v", filepath.Base(paper), err))
		return nil, fmt.Errorf("index %s: %w", paper, err)
	}
	wd.end(summary)
	return &IndexSummary{Paper: paper, Message: summary}, nil
}
