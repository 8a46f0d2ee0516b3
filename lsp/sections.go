package lsp

import (
	"github.com/r2c-ai/r2c/paper"

	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/orchestrator"
)

// CommandSections answers a paper's section tree (argument {"paper": path
// or arXiv id}), for the editors' section pickers. The paper is parsed in a
// child process under limits (see paperworker.go).
const CommandSections = "r2c.sections"

type sectionsArgs struct {
	Paper string `json:"paper"`
}

func (s *Server) sections(ctx context.Context, a sectionsArgs, token protocol.ProgressToken) (*paper.Outline, error) {
	if a.Paper == "" {
		return nil, invalidParams("%s needs {\"paper\": path or arXiv id}", CommandSections)
	}
	source := a.Paper // an arXiv id or URL unless it names a file
	if _, err := os.Stat(s.workspacePath(a.Paper)); err == nil {
		source = s.workspacePath(a.Paper)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := s.progress.start(ctx, "r2c: Read "+filepath.Base(source), "parsing the paper", token, cancel)
	defer wd.end("failed: internal error (see the log)")
	out, err := s.readPaper(ctx, source)
	if err != nil {
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		return nil, fmt.Errorf("%s: %w", CommandSections, err)
	}
	wd.end(fmt.Sprintf("%d sections", countSections(out.Sections)))
	return out, nil
}

// readPaper parses a paper in the isolated worker with the configured
// paper options.
func (s *Server) readPaper(ctx context.Context, source string) (*paper.Outline, error) {
	out, err := parsePaperIsolated(ctx, source, orchestrator.PaperOptions(s.config()), s.opts.PaperLimits)
	if err != nil {
		s.log.eventf("paper: %s: %v", source, err)
	}
	return out, err
}

func countSections(ss []paper.OutlineSection) int {
	n := len(ss)
	for _, c := range ss {
		n += countSections(c.Children)
	}
	return n
}
