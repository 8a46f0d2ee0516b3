package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// SchemaVersion is the version of the JSON shapes the core hands to front
// doors (ValidateResult) and writes to disk; it changes when a key changes
// meaning or goes away.
const SchemaVersion = 1

// ValidateRequest asks for one Python module to be validated: syntax, its
// tests in the sandbox, style against the profile.
type ValidateRequest struct {
	// Module is the module's path (absolute, or relative to the working
	// directory).
	Module string
	// Text is the module's text when it differs from the file (an editor
	// buffer); nil reads the file.
	Text []byte
	// Tests is a test file or folder; "" uses DiscoverTests.
	Tests string
	// Root is the workspace root; "" is FindRoot of the module's folder.
	Root string
	// Config is the effective configuration; nil loads it for Root
	// (LoadConfig).
	Config *config.Config
	// Profile is the style profile; nil reads ProfilePath, else the
	// configured one (LoadProfile). min_evidence is applied either way.
	Profile     *style.Profile
	ProfilePath string
	// Timeout, when positive, replaces sandbox.timeout for the test run.
	Timeout time.Duration
	// Files.Open supplies editor buffers, which win over the disk.
	Files Files
	// Progress, when set, hears what is about to run (one line).
	Progress func(message string)
	// FrontDoor (runstore.FrontDoorCLI, ...) names who asked; the
	// validation is then appended to the workspace's run store.
	FrontDoor string
}

// Validate checks one module with the rules every front door shares: the
// effective configuration (sandbox limits, python, min_isolation,
// keep_dirs), test discovery, the style profile with min_evidence. Findings
// and failing tests are in the report; an error is a problem of the input
// or the environment (no such module, no python with pytest, isolation
// below sandbox.min_isolation, cancellation), and Hint adds its fix.
func Validate(ctx context.Context, req ValidateRequest) (*validate.Report, error) {
	started := time.Now()
	rep, err := validateModule(ctx, req)
	if req.FrontDoor != "" && (rep != nil || ctx.Err() != nil || Environmental(err)) {
		root := req.Root
		if root == "" {
			root = FindRoot(filepath.Dir(req.Module))
		}
		// A store that cannot be written never fails the validation.
		_ = AppendRun(root, ValidationRow(req.FrontDoor, "validate-"+started.UTC().Format("20060102-150405.000000"), started, rep, err))
	}
	return rep, err
}

func validateModule(ctx context.Context, req ValidateRequest) (*validate.Report, error) {
	opts, err := ValidateOptions(req)
	if err != nil {
		return nil, err
	}
	if req.Progress != nil {
		if len(opts.Tests) == 0 {
			req.Progress(NoTestsMessage(req.Module))
		} else {
			req.Progress("running " + strings.Join(opts.Tests, ", "))
		}
	}
	return validate.Validate(ctx, opts)
}

// ValidateOptions is the validator's input for req, as Validate builds it.
func ValidateOptions(req ValidateRequest) (validate.Options, error) {
	root := req.Root
	if root == "" {
		root = FindRoot(filepath.Dir(req.Module))
	}
	var cfg config.Config
	if req.Config != nil {
		cfg = *req.Config
	} else {
		c, err := LoadConfig(root)
		if err != nil {
			return validate.Options{}, fmt.Errorf("validate: %w", err)
		}
		cfg = c
	}
	profile := WithMinEvidence(req.Profile, cfg)
	if profile == nil {
		p, err := LoadProfile(cfg, root, req.ProfilePath)
		if err != nil {
			return validate.Options{}, fmt.Errorf("validate: %w", err)
		}
		profile = p
	}
	opts, err := gather(req.Module, req.Text, req.Tests, req.Files)
	if err != nil {
		return opts, err
	}
	if err := SandboxOptions(&opts, cfg); err != nil {
		return opts, fmt.Errorf("validate: %w", err)
	}
	opts.Profile = profile
	if req.Timeout > 0 {
		opts.Limits.Wall = req.Timeout
	}
	return opts, nil
}

// SandboxOptions copies the [sandbox] settings into opts: the interpreter,
// the least isolation accepted, keep_dirs and the limits.
func SandboxOptions(opts *validate.Options, cfg config.Config) error {
	level, err := sandbox.ParseLevel(cfg.Sandbox.MinIsolation)
	if err != nil {
		return fmt.Errorf("config sandbox.min_isolation: %w", err)
	}
	opts.MinLevel = level
	opts.Python = cfg.Sandbox.Python
	opts.KeepRunDir = cfg.Sandbox.KeepDirs
	opts.Limits = validate.LimitsFromConfig(cfg.Sandbox)
	return nil
}

// NoTestsMessage says that a module has no tests and where they were looked
// for.
func NoTestsMessage(module string) string {
	name := filepath.Base(module)
	return fmt.Sprintf("no tests found for %s (looked for test_%s beside it, tests/test_%s and tests/): checking syntax and style only", name, name, name)
}

// ValidateResult is a validation as front doors return it (r2c validate
// --json, the language server's r2c.validate, the HTTP API): the verdict,
// a one-line message and the whole report, built by Summarize only.
type ValidateResult struct {
	SchemaVersion int              `json:"schema_version"`
	Module        string           `json:"module"`
	OK            bool             `json:"ok"`
	Message       string           `json:"message"`
	Report        *validate.Report `json:"report"`
}

// Summarize derives the front doors' result from a report.
func Summarize(module string, rep *validate.Report) *ValidateResult {
	name := filepath.Base(module)
	verdict := "passed"
	if !rep.OK() {
		verdict = "failed"
	}
	msg := fmt.Sprintf("%s %s: %d/%d tests passed, %d diagnostics, style %.0f/100 (sandbox: %s)",
		name, verdict, rep.Tests.Passed, rep.Tests.Total, len(rep.Diagnostics), rep.StyleScore, rep.Isolation)
	if len(rep.TestPaths) == 0 {
		msg += "; " + NoTestsMessage(module)
	}
	abs, err := filepath.Abs(module)
	if err != nil {
		abs = module
	}
	return &ValidateResult{SchemaVersion: SchemaVersion, Module: abs, OK: rep.OK(), Message: msg, Report: rep}
}

// Hint adds the fix to errors whose cause the user can act on: an
// interpreter without pytest, isolation below the minimum, a model server
// that cannot be reached.
func Hint(err error) string {
	var netErr *net.OpError
	var urlErr *url.Error
	switch {
	case errors.Is(err, sandbox.ErrNoPytest):
		return err.Error() + ". Install pytest for the interpreter (Debian: apt-get install python3-pytest) or set sandbox.python in r2c.toml to one that has it."
	case errors.Is(err, sandbox.ErrIsolation):
		return err.Error() + ". Install bubblewrap, or lower sandbox.min_isolation in r2c.toml."
	case errors.Is(err, orchestrator.ErrUnreachable):
		return err.Error() // explained by the orchestrator already
	case errors.As(err, &netErr) || errors.As(err, &urlErr):
		return err.Error() + ". Is the model server running? Set endpoint in r2c.toml (or the editor's r2c settings); `r2c doctor` checks it."
	}
	return err.Error()
}
