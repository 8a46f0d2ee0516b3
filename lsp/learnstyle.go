package lsp

import (
	"context"
	"fmt"
	"path/filepath"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/style"
)

// LearnSummary is r2c.learnStyle's result.
type LearnSummary struct {
	Profile string `json:"profile"`
	Files   int    `json:"files"`
	Lines   int    `json:"lines"`
	Skipped int    `json:"skipped"`
	Summary string `json:"summary"`
}

// learnStyle learns a style profile from the workspace (or the given
// folders), saves it where style.profile points and re-checks open
// documents with it.
func (s *Server) learnStyle(ctx context.Context, a learnArgs, token protocol.ProgressToken) (*LearnSummary, error) {
	dirs := a.Dirs
	if len(dirs) == 0 {
		root := s.rootDir()
		if root == "" {
			return nil, invalidParams("r2c.learnStyle: no workspace folder is open; pass {\"dirs\": [...]}")
		}
		dirs = []string{root}
	}
	for i, d := range dirs {
		dirs[i] = s.workspacePath(d)
	}
	path := s.workspacePath(s.config().Style.Profile)
	if path == "" {
		return nil, invalidParams("r2c.learnStyle: style.profile is empty; set it in r2c.toml")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := s.progress.start(ctx, "r2c: Learn my style", fmt.Sprintf("reading Python files under %s", dirs[0]), token, cancel)
	defer wd.end("failed: internal error (see the log)") // only if no other end was sent: a panic
	p, err := style.Learn(ctx, dirs)
	if err != nil {
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Learn my style: "+err.Error())
		return nil, fmt.Errorf("learn style: %w", err)
	}
	wd.report(fmt.Sprintf("learned from %d files; saving", p.Files), 90)
	if err := p.Save(path); err != nil {
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Learn my style: "+err.Error())
		return nil, fmt.Errorf("save style profile: %w", err)
	}
	p.MinEvidence = s.config().Style.MinEvidence
	s.mu.Lock()
	s.profile, s.profilePath = p, path
	s.mu.Unlock()
	s.diags.recheckAll()

	sum := &LearnSummary{Profile: path, Files: p.Files, Lines: p.Lines, Skipped: len(p.Skipped), Summary: p.Summary()}
	wd.end(fmt.Sprintf("learned your style from %d files (%d lines); saved to %s", p.Files, p.Lines, filepath.Base(path)))
	return sum, nil
}
