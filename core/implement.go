package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
)

// Observer receives a run's events (the orchestrator's).
type Observer = orchestrator.Observer

// Event is one step of a run.
type Event = orchestrator.Event

// ApplyMode says who puts a run's files in place.
type ApplyMode int

const (
	// WriteToOutDir: Implement writes the files under OutDir with
	// WriteFiles. OutDir must be new or empty, checked before any model
	// call (the CLI, the HTTP API).
	WriteToOutDir ApplyMode = iota
	// CallerApplies: the front door applies Result.Files itself (the
	// language server, as a workspace edit the user can undo) and then
	// reports what it applied with RecordWritten. OutDir may hold other
	// files; the run warns when planned files already exist there.
	CallerApplies
)

// ErrPreflight is wrapped by Implement's errors found before any model
// call: a missing paper or section, an output folder that is not new or
// empty. Front doors answer them as usage errors (exit status 2).
var ErrPreflight = errors.New("not started")

// ImplementRequest asks for one section of a paper to be implemented.
type ImplementRequest struct {
	// Paper is a file (.pdf, .md, .tex, .txt) or an arXiv id or URL; a
	// relative file is relative to the working directory.
	Paper string
	// Section is a number, a title or both ("3.2 Scaled Dot-Product Attention").
	Section string
	// OutDir receives the files.
	OutDir string
	// Root is the workspace root (runs, index and profile live under it);
	// "" is FindRoot of the working directory.
	Root string
	// Config is the effective configuration; nil loads it for Root.
	Config *config.Config
	// Profile is the style profile; nil loads the configured one.
	// min_evidence is applied either way.
	Profile *style.Profile
	Apply   ApplyMode
	// FrontDoor (runstore.FrontDoorCLI, ...) names who asked; the run is
	// then appended to the workspace's run store. "" leaves recording the
	// run to the caller (the HTTP API records its own, queued runs too).
	FrontDoor string
}

// Result is a finished implement run as every front door sees it.
type Result struct {
	*orchestrator.Result
	// Written are the files written (WriteToOutDir), absolute.
	Written []string
	// WriteError is why the files were not written, when they were not.
	WriteError error
}

// Implement runs the paper-to-code pipeline with the rules every front
// door shares: the effective configuration, the style profile with
// min_evidence, the preflight checks before any model call, the paper
// indexed when no index holds it (orchestrator), and, with WriteToOutDir,
// the files written all-or-nothing and the run record updated to say what
// was written: a run whose files could not be written is recorded failed,
// never passed.
//
// As orchestrator.Run, it returns a Result together with an error when a
// run stopped after a validated round (Files are its best round's, already
// written with WriteToOutDir). A nil Result comes only with a preflight or
// setup error.
func Implement(ctx context.Context, req ImplementRequest, obs Observer) (*Result, error) {
	if req.Root == "" {
		req.Root = FindRoot(".")
	}
	started, tracker := time.Now(), &RunTracker{}
	res, err := implement(ctx, req, teeObserver{obs, tracker})
	if req.FrontDoor != "" && (res != nil || !errors.Is(err, ErrPreflight)) {
		id := "failed-" + started.UTC().Format("20060102-150405.000")
		if res != nil && res.Result != nil && res.RunID != "" {
			id = res.RunID
		}
		if aerr := AppendRun(req.Root, ImplementRow(req.FrontDoor, id, started, res, err, tracker)); aerr != nil && res != nil && res.Result != nil {
			res.Warnings = append(res.Warnings, "the run store: "+aerr.Error())
		}
	}
	return res, err
}

// teeObserver passes events to the caller's observer and the tracker.
type teeObserver struct {
	obs     Observer
	tracker *RunTracker
}

func (t teeObserver) OnEvent(e Event) {
	t.tracker.OnEvent(e)
	if t.obs != nil {
		t.obs.OnEvent(e)
	}
}

func implement(ctx context.Context, req ImplementRequest, obs Observer) (*Result, error) {
	req.Paper, req.Section = strings.TrimSpace(req.Paper), strings.TrimSpace(req.Section)
	if req.Paper == "" || req.Section == "" {
		return nil, fmt.Errorf("%w: implement needs a paper and a section (got paper %q, section %q)", ErrPreflight, req.Paper, req.Section)
	}
	if req.Root == "" {
		req.Root = FindRoot(".")
	}
	if _, err := os.Stat(req.Paper); err == nil {
		if abs, err := filepath.Abs(req.Paper); err == nil {
			req.Paper = abs
		}
	}
	var cfg config.Config
	if req.Config != nil {
		cfg = *req.Config
	} else {
		c, err := LoadConfig(req.Root)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPreflight, err)
		}
		cfg = c
	}
	profile := WithMinEvidence(req.Profile, cfg)
	if req.Profile == nil {
		p, err := LoadProfile(cfg, req.Root, "")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPreflight, err)
		}
		profile = p
	}
	if req.OutDir == "" {
		return nil, fmt.Errorf("%w: no output folder given", ErrPreflight)
	}
	if req.Apply == WriteToOutDir {
		if err := OutDirProblem(req.OutDir); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPreflight, err)
		}
	}

	ores, runErr := orchestrator.Run(ctx, orchestrator.Request{
		Paper: req.Paper, Section: req.Section, OutDir: req.OutDir,
		Config: cfg, Profile: profile, Root: req.Root,
	}, obs)
	if ores == nil {
		return nil, runErr
	}
	res := &Result{Result: ores}
	if req.Apply != WriteToOutDir || ores.Status == orchestrator.StatusCancelled {
		return res, runErr
	}
	if len(ores.Files) == 0 {
		res.WriteError = errors.New("the run produced no files")
	} else if err := WriteFiles(req.OutDir, ores.Files); err != nil {
		res.WriteError = err
	} else {
		for _, f := range ores.Files {
			res.Written = append(res.Written, filepath.Join(req.OutDir, filepath.FromSlash(f.Path)))
		}
	}
	if err := RecordWritten(res, res.Written, res.WriteError); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	if runErr == nil && res.WriteError != nil {
		runErr = fmt.Errorf("the files were not written: %w", res.WriteError)
	}
	return res, runErr
}

// RecordWritten states in the run's record (run.json) which files were
// put in place, and when none were (werr says why), that the run did not
// pass: status reflects what the user got, not what was validated. Front
// doors that apply files themselves call it after applying them.
func RecordWritten(res *Result, written []string, werr error) error {
	if res == nil || res.Result == nil {
		return nil
	}
	if len(written) == 0 && res.Status == orchestrator.StatusPassed {
		res.Status = orchestrator.StatusFailed
	}
	if res.RunDir == "" {
		return nil
	}
	return orchestrator.UpdateRecord(res.RunDir, func(rec *orchestrator.Record) {
		rec.Status = res.Status
		rec.Written = written
		if werr != nil {
			rec.WriteError = werr.Error()
		}
	})
}

// Environmental reports whether err is about the input or the machine
// rather than the paper or the model's code: a preflight problem, a model
// server that cannot be reached, no python with pytest, too little
// isolation. Front doors answer these as usage errors (exit status 2).
func Environmental(err error) bool {
	return errors.Is(err, ErrPreflight) || errors.Is(err, orchestrator.ErrUnreachable) ||
		errors.Is(err, sandbox.ErrNoPytest) || errors.Is(err, sandbox.ErrIsolation) ||
		errors.Is(err, agents.ErrContextTooSmall) // the server's context, not the paper or the code
}

// Summary is a one-line account of a run for front doors that show one
// line: its id, rounds, tests and style.
func (r *Result) Summary() string {
	if r == nil || r.Result == nil {
		return ""
	}
	s := fmt.Sprintf("run %s, %d round(s)", r.RunID, r.Rounds)
	if rep := r.Report; rep != nil {
		s += fmt.Sprintf(", %d/%d tests passed, style %.0f/100", rep.Tests.Passed, rep.Tests.Total, rep.StyleScore)
	}
	if r.Indexed != "" {
		s += "; " + r.Indexed
	}
	return s
}

// SectionFolder is the default output folder name for a section, made from
// its title: "3.2 Scaled Dot-Product Attention" → "scaled_dot_product_attention"
// (a valid Python package name: no leading digit). Every front door uses it
// when no folder is named.
func SectionFolder(section string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(section) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
			under = false
		case b.Len() > 0 && !under:
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.Trim(b.String(), "_")
	if out == "" {
		return "r2c_section"
	}
	return out
}
