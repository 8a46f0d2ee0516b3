package lsp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/runstore"
)

// ImplementRequest is r2c.implement's argument object: one section of a
// paper to implement. The server turns it into a core.ImplementRequest.
type ImplementRequest struct {
	// Paper is a path (.pdf, .md, .tex, .txt; relative to the workspace
	// root) or an arXiv id or URL.
	Paper string `json:"paper"`
	// Section is a number ("3.2"), a title, or both.
	Section string `json:"section"`
	// TargetDir receives the generated files (relative to the workspace root).
	TargetDir string `json:"targetDir"`
}

// Implementer runs the paper-to-code pipeline: core.Implement, or a
// scripted stand-in in tests. The server calls it with core.CallerApplies:
// it applies Result.Files through the editor and records what it applied
// (core.RecordWritten). It must stop promptly when ctx is cancelled. A run
// that failed after a validated round returns its best files together with
// the error: the server applies them and shows the error as a warning.
type Implementer func(ctx context.Context, req core.ImplementRequest, obs core.Observer) (*core.Result, error)

// ImplementSummary is r2c.implement's result.
type ImplementSummary struct {
	Status  string   `json:"status"`
	Files   []string `json:"files"`
	Applied bool     `json:"applied"` // through workspace/applyEdit (else written to disk)
	Message string   `json:"message"`
}

// stageSpan maps each agent's own 0–100 onto the run's overall percentage.
var stageSpan = map[string][2]float64{
	"analyzer":    {0, 15},
	"planner":     {15, 30},
	"implementer": {30, 80},
	"validator":   {80, 98},
}

var agentTitle = map[string]string{
	"analyzer": "Analyzer", "planner": "Planner", "implementer": "Implementer", "validator": "Validator", "run": "Run",
}

func (s *Server) implement(ctx context.Context, req ImplementRequest, token protocol.ProgressToken) (*ImplementSummary, error) {
	if s.opts.Implement == nil {
		return nil, invalidParams("r2c.implement is not available in this build of r2c")
	}
	req.Paper, req.Section, req.TargetDir = strings.TrimSpace(req.Paper), strings.TrimSpace(req.Section), strings.TrimSpace(req.TargetDir)
	if req.Paper == "" || req.Section == "" {
		return nil, invalidParams("r2c.implement needs {\"paper\", \"section\", \"targetDir\"}; got paper %q, section %q", req.Paper, req.Section)
	}
	if _, err := os.Stat(s.workspacePath(req.Paper)); err == nil {
		req.Paper = s.workspacePath(req.Paper)
	}
	if req.TargetDir == "" {
		req.TargetDir = s.workspacePath(core.SectionFolder(req.Section))
	}
	req.TargetDir = s.workspacePath(req.TargetDir)
	if !filepath.IsAbs(req.TargetDir) {
		return nil, invalidParams("r2c.implement: targetDir %q must be absolute when no workspace folder is open", req.TargetDir)
	}

	// Two runs into one folder would race to create the same files, and
	// the loser's work would be thrown away after minutes of model time.
	target := filepath.Clean(req.TargetDir)
	s.mu.Lock()
	if s.implementing == nil {
		s.implementing = make(map[string]string)
	}
	if running, busy := s.implementing[target]; busy {
		s.mu.Unlock()
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "r2c.implement: %s is already running into %s; wait for it or cancel it first", running, target)
	}
	s.implementing[target] = describeSection(req)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.implementing, target)
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := s.progress.start(ctx, "r2c: Implement "+describeSection(req), "reading the paper", token, cancel)
	defer wd.end("failed: internal error (see the log)") // only if no other end was sent: a panic
	// A hostile PDF must not stall or crash the server: the paper is read
	// once in the isolated worker before the in-process pipeline gets it.
	if _, err := os.Stat(req.Paper); err == nil {
		if _, err := s.readPaper(ctx, req.Paper); err != nil {
			if ctx.Err() != nil {
				wd.end("cancelled; nothing was written")
				return nil, context.Canceled
			}
			wd.end("failed: " + err.Error())
			s.showMessage(protocol.MessageTypeError, "r2c: Implement "+describeSection(req)+" failed: "+err.Error())
			return nil, fmt.Errorf("implement: %w", err)
		}
	}
	cfg := s.config()
	res, err := s.opts.Implement(ctx, core.ImplementRequest{
		Paper: req.Paper, Section: req.Section, OutDir: req.TargetDir, Root: s.rootDir(),
		Config: &cfg, Profile: s.styleProfile(), Apply: core.CallerApplies, FrontDoor: runstore.FrontDoorLSP,
	}, orchestrator.ObserverFunc(func(ev orchestrator.Event) {
		if ev.Kind == orchestrator.EventTokens {
			return // far too chatty for progress messages
		}
		span, ok := stageSpan[ev.Node]
		pct := -1.0
		if ok {
			switch ev.Kind {
			case orchestrator.EventFinished:
				pct = span[1]
			default:
				pct = span[0] + (span[1]-span[0])*max(0, min(100, ev.Percent))/100
			}
		}
		title := agentTitle[ev.Node]
		if title == "" {
			title = ev.Node
		}
		msg := title + ": " + ev.Kind
		if ev.Message != "" {
			msg = title + ": " + ev.Message
		}
		wd.report(msg, pct)
	}))
	switch {
	case ctx.Err() != nil:
		wd.end("cancelled; nothing was written")
		return nil, context.Canceled
	case err != nil && (res == nil || len(res.Files) == 0):
		_ = core.RecordWritten(res, nil, err)
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Implement "+describeSection(req)+" failed: "+core.Hint(err))
		return nil, fmt.Errorf("implement: %w", err)
	case res == nil || len(res.Files) == 0:
		_ = core.RecordWritten(res, nil, errors.New("the run produced no files"))
		wd.end("finished without files")
		return &ImplementSummary{Status: orchestrator.StatusFailed, Message: "the run produced no files"}, nil
	}

	runErr := err // applying the files below reuses err
	wd.report(fmt.Sprintf("applying %d files", len(res.Files)), 99)
	applied, paths, how, err := s.applyFiles(ctx, req.TargetDir, res.Files)
	if rerr := core.RecordWritten(res, paths, err); rerr != nil {
		s.log.eventf("implement: %v", rerr)
	}
	if err != nil {
		wd.end("generated, but not applied: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Implement: the generated files were not applied: "+err.Error())
		return nil, fmt.Errorf("apply generated files: %w", err)
	}
	msg := fmt.Sprintf("%s: %d files in %s", res.Status, len(paths), req.TargetDir)
	if sum := res.Summary(); sum != "" {
		msg += " — " + sum
	}
	if res.Status == "failed" {
		msg += " (tests still failing: run \"r2c: Validate module\" to see them)"
	}
	if runErr != nil {
		msg += "; the run stopped early, these are its best round's files: " + core.Hint(runErr)
		s.showMessage(protocol.MessageTypeWarning, "r2c: Implement "+describeSection(req)+" stopped early ("+core.Hint(runErr)+"); the best round's files were kept")
	}
	if !applied {
		// Say what really happened, and open the module for the user.
		msg += "; " + how
		s.showMessage(protocol.MessageTypeInfo, "r2c: "+how+": "+strings.Join(paths, ", "))
		s.showGenerated(ctx, paths)
	}
	wd.end(msg)
	return &ImplementSummary{Status: res.Status, Files: paths, Applied: applied, Message: msg}, nil
}

// applyFiles hands generated files to the editor as one workspace edit —
// CreateFile for new files, a versioned TextDocumentEdit for files open in
// the editor, so a buffer that changed meanwhile is never overwritten — or,
// when the client cannot create files through workspace edits (its
// workspaceEdit capabilities say so) or fails to (Neovim 0.7 announces
// CreateFile but cannot create a file in a folder that does not exist yet),
// writes them all-or-nothing itself with the core's exclusive writer. how
// says, when applied is false, what was done instead and why.
func (s *Server) applyFiles(ctx context.Context, dir string, files []core.File) (applied bool, paths []string, how string, err error) {
	abs := make([]string, len(files))
	for i, f := range files {
		if err := safepath.Check(f.Path); err != nil {
			return false, nil, "", fmt.Errorf("generated file: %w", err)
		}
		abs[i] = filepath.Join(dir, filepath.FromSlash(f.Path))
	}
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	writeSelf := func(why string) (bool, []string, string, error) {
		write := s.opts.WriteFiles
		if write == nil {
			write = core.WriteFiles
		}
		if err := write(dir, files); err != nil {
			return false, nil, "", err
		}
		return false, abs, "r2c wrote the files itself (" + why + ")", nil
	}
	if !caps.canApplyCreates() {
		return writeSelf("the editor cannot create files through workspace edits")
	}

	var changes []protocol.DocumentChange
	open := 0
	for i, f := range files {
		u := fileURI(abs[i])
		if d := s.docs.get(u); d != nil {
			open++
			snap := d.snapshot()
			end := snap.index.position(s.encoding(), len(snap.text))
			changes = append(changes, versionedEdit(u, snap.version, caps, []protocol.TextEdit{{
				Range: protocol.Range{End: end}, NewText: string(f.Content),
			}}).DocumentChanges...)
			continue
		}
		if _, err := os.Stat(abs[i]); err == nil {
			return false, nil, "", fmt.Errorf("%s already exists and is not open in the editor; r2c never overwrites files: choose another target folder", abs[i])
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false, nil, "", err
		}
		no := false
		changes = append(changes,
			&protocol.CreateFile{Kind: "create", URI: u, Options: &protocol.CreateFileOptions{Overwrite: &no, IgnoreIfExists: &no}},
			&protocol.TextDocumentEdit{
				TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}},
				Edits:        []protocol.TextDocumentEditElement{&protocol.TextEdit{NewText: string(f.Content)}},
			})
	}
	label := "r2c: implement"
	var res protocol.ApplyWorkspaceEditResult
	if err := s.call(context.WithoutCancel(ctx), "workspace/applyEdit", &protocol.ApplyWorkspaceEditParams{Label: &label, Edit: protocol.WorkspaceEdit{DocumentChanges: changes}}, &res); err != nil {
		return false, nil, "", fmt.Errorf("workspace/applyEdit: %w", err)
	}
	if !res.Applied {
		reason := "no reason given"
		if res.FailureReason != nil {
			reason = *res.FailureReason
		}
		// A refusal that touched open buffers may be a buffer that changed
		// meanwhile: writing to disk then would lose the user's edit.
		if open > 0 || !nothingCreated(abs) {
			return false, nil, "", fmt.Errorf("the editor did not apply the edit (%s); a buffer may have changed meanwhile", reason)
		}
		s.log.eventf("implement: the editor could not apply the edit (%s); writing the files directly", reason)
		return writeSelf("the editor could not create them: " + firstLine(reason))
	}
	return true, abs, "", nil
}

// nothingCreated reports whether none of paths exists (a failed edit left
// nothing behind).
func nothingCreated(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return false
		}
	}
	return true
}

// showGenerated asks the editor to open the first generated module (not
// its test), when it supports window/showDocument; the summary's file list
// lets other clients open them.
func (s *Server) showGenerated(ctx context.Context, paths []string) {
	s.mu.Lock()
	can := s.caps.showDocument
	s.mu.Unlock()
	if !can || len(paths) == 0 {
		return
	}
	first := paths[0]
	for _, p := range paths {
		if strings.HasSuffix(p, ".py") && !strings.HasPrefix(filepath.Base(p), "test_") {
			first = p
			break
		}
	}
	var res protocol.ShowDocumentResult
	if err := s.call(context.WithoutCancel(ctx), "window/showDocument", &protocol.ShowDocumentParams{URI: fileURI(first)}, &res); err != nil {
		s.log.eventf("implement: window/showDocument: %v", err)
	}
}

// The implement-comment syntax, in any file:
//
//	# r2c: implement path/to/paper.pdf#3.2
//	# r2c: implement arxiv:1706.03762#Scaled Dot-Product Attention -> models/attention
//
// The paper path is relative to the file's folder (or the workspace root),
// the section follows the last '#', and "-> folder" names the target folder
// (default: the file's folder).
var (
	implementComment = regexp.MustCompile(`^\s*(?:#|//|%|<!--)\s*r2c:\s*implement\s+(\S+)#([^#]+?)(?:\s+->\s+(\S+))?\s*(?:-->)?\s*$`)
	markdownHeading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$`)
	latexHeading     = regexp.MustCompile(`^\s*\\(?:sub){0,2}section\*?\{(.+)\}`)
)

// implementAt recognises an implement comment, or a heading of a paper
// written in Markdown, LaTeX or text, on the given line of a document.
func implementAt(snap snapshot, line int, root string) (ImplementRequest, bool) {
	if line < 0 || line >= snap.index.lines() {
		return ImplementRequest{}, false
	}
	text := string(snap.index.line(line))
	dir := filepath.Dir(snap.path)
	if m := implementComment.FindStringSubmatch(text); m != nil {
		paper := m[1]
		if !filepath.IsAbs(paper) && !strings.Contains(paper, ":") {
			if _, err := os.Stat(filepath.Join(dir, paper)); err == nil {
				paper = filepath.Join(dir, paper)
			} else if root != "" {
				paper = filepath.Join(root, paper)
			}
		}
		target := dir
		if m[3] != "" {
			target = m[3]
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
		}
		return ImplementRequest{Paper: paper, Section: strings.TrimSpace(m[2]), TargetDir: target}, true
	}
	if !isPaperText(snap.lang, snap.path) {
		return ImplementRequest{}, false
	}
	var section string
	ext := strings.ToLower(filepath.Ext(snap.path))
	switch {
	case snap.lang == "markdown" || ext == ".md" || ext == ".markdown":
		if m := markdownHeading.FindStringSubmatch(text); m != nil {
			section = m[2]
		}
	case snap.lang == "tex" || snap.lang == "latex" || ext == ".tex":
		if m := latexHeading.FindStringSubmatch(text); m != nil {
			section = m[1]
		}
	default:
		if num, title, ok := paper.SplitHeading(text, false); ok {
			section = num + " " + title
		}
	}
	if section == "" {
		return ImplementRequest{}, false
	}
	return ImplementRequest{Paper: snap.path, Section: section, TargetDir: filepath.Join(dir, core.SectionFolder(section))}, true
}

func describeSection(r ImplementRequest) string {
	return fmt.Sprintf("section %q of %s", r.Section, filepath.Base(r.Paper))
}
