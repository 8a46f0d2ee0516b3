package lsp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
	"github.com/r2c-ai/r2c/style"
	"github.com/r2c-ai/r2c/validate"
)

// ValidateSummary is r2c.validate's result.
type ValidateSummary struct {
	OK          bool           `json:"ok"`
	Tests       map[string]int `json:"tests"`
	Diagnostics map[string]int `json:"diagnostics"`
	StyleScore  float64        `json:"styleScore"`
	Isolation   string         `json:"isolation"`
	Message     string         `json:"message"`
}

// Bounds on what "Validate module" copies into the sandbox besides the
// module: its sibling modules (which it may import) and its tests.
const (
	maxSiblingFiles = 200
	maxSiblingBytes = 4 << 20
)

// validateDocument runs the Validator on an open module — its buffer text,
// not the file on disk — with its sibling modules and its tests
// (test_<name>.py beside it or in tests/), publishes the diagnostics and
// returns a summary. Progress is reported and cancellable.
func (s *Server) validateDocument(ctx context.Context, d *document, token protocol.ProgressToken) (*ValidateSummary, error) {
	snap := d.snapshot()
	if !isPython(snap.lang, snap.path) {
		return nil, invalidParams("r2c.validate: %s is not a Python module", snap.uri)
	}
	cfg := s.config()
	opts, tests, err := s.validateOptions(snap, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := filepath.Base(snap.path)
	wd := s.progress.start(ctx, "r2c: Validate "+name, "syntax, tests and style", token, cancel)
	defer wd.end("failed: internal error (see the log)") // only if no other end was sent: a panic
	if len(tests) == 0 {
		wd.report("no test_"+name+" found: checking syntax and style only", 10)
	} else {
		wd.report("running "+strings.Join(tests, ", "), 10)
	}

	rep, err := validate.Validate(ctx, opts)
	if err != nil || ctx.Err() != nil {
		// A report that raced a cancellation describes a killed run: it
		// is never published.
		if ctx.Err() != nil {
			wd.end("cancelled")
			return nil, context.Canceled
		}
		wd.end("failed: " + err.Error())
		s.showMessage(protocol.MessageTypeError, "r2c: Validate module: "+validateHint(err))
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
			u = fileURI(filepath.Join(filepath.Dir(snap.path), filepath.FromSlash(key)))
			if od := s.docs.get(u); od != nil {
				osnap := od.snapshot()
				idx, version, seq = osnap.index, osnap.version, osnap.seq
			} else {
				idx = newLineIndex(opts.Files[key])
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

	sum := &ValidateSummary{
		OK:          rep.OK(),
		Tests:       map[string]int{"total": rep.Tests.Total, "passed": rep.Tests.Passed, "failed": rep.Tests.Failed, "errors": rep.Tests.Errors, "skipped": rep.Tests.Skipped},
		Diagnostics: rep.Counts(),
		StyleScore:  rep.StyleScore,
		Isolation:   rep.Isolation,
	}
	verdict := "passed"
	if !sum.OK {
		verdict = "failed"
	}
	sum.Message = fmt.Sprintf("%s %s: %d/%d tests passed, %d diagnostics, style %.0f/100 (sandbox: %s)",
		name, verdict, rep.Tests.Passed, rep.Tests.Total, len(rep.Diagnostics), rep.StyleScore, rep.Isolation)
	wd.end(sum.Message)
	return sum, nil
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

// validateHint turns environment errors into a message that names the fix.
func validateHint(err error) string {
	switch {
	case errors.Is(err, sandbox.ErrNoPytest):
		return err.Error() + ". Install pytest for the interpreter (Debian: apt-get install python3-pytest) or set sandbox.python in r2c.toml to one that has it."
	case errors.Is(err, sandbox.ErrIsolation):
		return err.Error() + ". Install bubblewrap, or lower sandbox.min_isolation in r2c.toml."
	}
	return err.Error()
}

// validateOptions collects what the Validator needs: the module's buffer
// text, sibling modules (open buffers win over disk) and its tests.
func (s *Server) validateOptions(snap snapshot, cfg config.Config) (validate.Options, []string, error) {
	dir, name := filepath.Dir(snap.path), filepath.Base(snap.path)
	files := map[string][]byte{name: snap.text}
	total := len(snap.text)
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".py") || e.Name() == name || n >= maxSiblingFiles {
			continue
		}
		b, ok := s.fileText(filepath.Join(dir, e.Name()))
		if !ok || total+len(b) > maxSiblingBytes {
			continue
		}
		files[e.Name()] = b
		total += len(b)
		n++
	}
	var tests []string
	stem := strings.TrimSuffix(name, ".py")
	if strings.HasPrefix(stem, "test_") {
		tests = append(tests, name)
	} else {
		testName := "test_" + name
		if _, ok := files[testName]; ok {
			tests = append(tests, testName)
		} else if b, ok := s.fileText(filepath.Join(dir, "tests", testName)); ok {
			// Put it beside the module so "import <module>" works in the sandbox.
			files[testName] = b
			tests = append(tests, testName)
		}
	}
	sort.Strings(tests)
	level := sandbox.LevelAuto
	if cfg.Sandbox.MinIsolation != "" {
		l, err := sandbox.ParseLevel(cfg.Sandbox.MinIsolation)
		if err != nil {
			return validate.Options{}, nil, invalidParams("sandbox.min_isolation: %v", err)
		}
		level = l
	}
	opts := validate.Options{
		Files:    files,
		Modules:  []string{name},
		Tests:    tests,
		Profile:  s.styleProfile(),
		Python:   cfg.Sandbox.Python,
		MinLevel: level,
		Limits:   validate.LimitsFromConfig(cfg.Sandbox),
	}
	return opts, tests, nil
}

// fileText returns a file's open-buffer text, else its content on disk.
func (s *Server) fileText(path string) ([]byte, bool) {
	if d := s.docs.get(fileURI(path)); d != nil {
		return d.snapshot().text, true
	}
	b, err := os.ReadFile(path)
	return b, err == nil
}

func (s *Server) encoding() encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc
}
