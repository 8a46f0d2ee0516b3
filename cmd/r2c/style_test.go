package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/r2c-ai/r2c/style"
	"golang.org/x/tools/txtar"
)

// writeGoldenProject writes the style package's ml_project fixture (a small
// code base in one consistent style plus two files to check) to a temporary
// folder and returns it.
func writeGoldenProject(t *testing.T) string {
	t.Helper()
	ar, err := txtar.ParseFile("../../style/testdata/golden/ml_project.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var diagLine = regexp.MustCompile(`^[^:]+\.py:\d+:\d+: [a-z_.-]+: .+$`)
var consistencyLine = regexp.MustCompile(`^consistency: \d+\.\d%$`)

func TestStyleLearnThenCheck(t *testing.T) {
	dir := writeGoldenProject(t)
	profile := filepath.Join(dir, "out", "style.json")
	out, errOut, code := runCLI(t, "style", "learn", "-o", profile, filepath.Join(dir, "profile"))
	if code != exitOK {
		t.Fatalf("learn: code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"DIMENSION", "naming.function", "snake_case", "learned from 4 file(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("learn output lacks %q:\n%s", want, out)
		}
	}
	if _, err := style.LoadProfile(profile); err != nil {
		t.Fatalf("learn wrote an unreadable profile: %v", err)
	}

	off := filepath.Join(dir, "check", "off_style.py")
	out, errOut, code = runCLI(t, "style", "check", "--profile", profile, off)
	if code != exitOK {
		t.Fatalf("check: style deviations alone must not fail; code %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 {
		t.Fatalf("check printed too little:\n%s", out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !diagLine.MatchString(l) {
			t.Errorf("not a file:line:col: rule: message line: %q", l)
		}
	}
	if last := lines[len(lines)-1]; !consistencyLine.MatchString(last) {
		t.Errorf("last line %q is not consistency: NN.N%%", last)
	}
	if !strings.Contains(out, "off_style.py:18:5: naming.function: profile uses snake_case for function names") {
		t.Errorf("smoothLosses (line 18, col 5) not reported as a naming.function deviation:\n%s", out)
	}

	_, _, code = runCLI(t, "style", "check", "--strict", "--profile", profile, off)
	if code != exitFail {
		t.Errorf("--strict with warnings: code %d, want %d", code, exitFail)
	}

	in := filepath.Join(dir, "check", "in_style.py")
	out, _, code = runCLI(t, "style", "check", "--json", "--profile", profile, in, off)
	if code != exitOK {
		t.Fatalf("check --json: code %d", code)
	}
	var res styleCheckResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("check --json output is not JSON: %v\n%s", err, out)
	}
	if len(res.Files) != 2 || res.Files[0].Score <= res.Files[1].Score {
		t.Fatalf("want the in-style file to score higher: %+v", res.Files)
	}
	if res.Consistency <= res.Files[1].Score || res.Consistency >= res.Files[0].Score {
		t.Errorf("overall consistency %.1f is not between the files' scores", res.Consistency)
	}
	_, _, code = runCLI(t, "style", "check", "--min-score", "99", "--profile", profile, off)
	if code != exitFail {
		t.Errorf("--min-score 99 on the off-style file: code %d, want %d", code, exitFail)
	}
}

// TestStyleQuickStart runs the README's quick start: learn from the
// examples folder (few Python files) and check the example module.
func TestStyleQuickStart(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	profile := filepath.Join(t.TempDir(), "style.json")
	out, errOut, code := runCLI(t, "style", "learn", "-o", profile, exampleDir)
	if code != exitOK {
		t.Fatalf("learn %s: code %d\nstdout %s\nstderr %s", exampleDir, code, out, errOut)
	}
	if !strings.Contains(out, "learned from") {
		t.Errorf("no summary line:\n%s", out)
	}
	out, errOut, code = runCLI(t, "style", "check", "--profile", profile, exampleModule)
	if code != exitOK {
		t.Fatalf("check example.py: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if !consistencyLine.MatchString(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])) {
		t.Errorf("no consistency line:\n%s", out)
	}
}

func TestStyleLearnNothingToLearn(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not python"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "style", "learn", "-o", filepath.Join(dir, "p.json"), dir)
	if code != exitUsage || !strings.Contains(errOut, "no Python files") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
		t.Error("a profile was written although nothing was learned")
	}
}

func TestStyleCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "blob.py")
	if err := os.WriteFile(bin, []byte("\x7fELF\x02\x01\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.py")
	if err := os.WriteFile(broken, []byte("def f(:\n    return 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "p.json")
	if err := style.NewProfile().Save(profile); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "style", "check", "--profile", profile, bin)
	if code != exitUsage || !strings.Contains(errOut, "NUL bytes") {
		t.Errorf("binary file: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "style", "check", "--profile", profile, filepath.Join(dir, "missing.py"))
	if code != exitUsage || !strings.Contains(errOut, "missing.py") {
		t.Errorf("missing file: code %d, stderr %q", code, errOut)
	}
	out, _, code := runCLI(t, "style", "check", "--profile", profile, broken)
	if code != exitFail || !strings.Contains(out, "broken.py:1:") || !strings.Contains(out, ": syntax-error: ") {
		t.Errorf("syntax error: code %d, stdout %q", code, out)
	}
}

// TestStyleStatsAgainstPython compares `r2c style stats --json` with
// CPython's ast module on the example file.
func TestStyleStatsAgainstPython(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		if python, err = exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found: it is the oracle for the counts")
		}
	}
	files := []string{exampleModule, "../../style/testdata/aststats.py"}
	out, errOut, code := runCLI(t, append([]string{"style", "stats", "--json"}, files...)...)
	if code != exitOK {
		t.Fatalf("stats: code %d, stderr %s", code, errOut)
	}
	cmd := exec.Command(python, "../../style/testdata/aststats.py")
	cmd.Stdin = strings.NewReader(strings.Join(files, "\n") + "\n")
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("aststats.py: %v", err)
	}
	gotLines := strings.Split(strings.TrimSpace(out), "\n")
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(gotLines) != len(files) || len(wantLines) != len(files) {
		t.Fatalf("want one JSON line per file: got %d, python %d", len(gotLines), len(wantLines))
	}
	for i := range files {
		var g, w map[string]any
		if err := json.Unmarshal([]byte(gotLines[i]), &g); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		if err := json.Unmarshal([]byte(wantLines[i]), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n r2c    %s\n python %s", files[i], gotLines[i], wantLines[i])
		}
	}
}

// The README's quick start works on these.
const (
	exampleDir    = "../../examples"
	exampleModule = "../../examples/attention/attention.py"
)

// TestStyleRefusesEndlessInput: a FIFO would block a plain read forever and
// /dev/zero would fill memory; both are refused at once, and a file over the
// size limit is reported without reading all of it.
func TestStyleRefusesEndlessInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.py")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.py")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 64 GiB of NULs that take no disk.
	if err := f.Truncate(64 << 30); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	for _, cmd := range []string{"check", "stats"} {
		for _, p := range []string{fifo, "/dev/zero"} {
			_, errOut, code := runCLI(t, "style", cmd, p)
			if code != exitUsage || !strings.Contains(errOut, "not a regular file") {
				t.Errorf("style %s %s: code %d, stderr %q", cmd, p, code, errOut)
			}
		}
		_, errOut, code := runCLI(t, "style", cmd, big)
		if code != exitUsage || !strings.Contains(errOut, "larger than") {
			t.Errorf("style %s on a 64 GiB file: code %d, stderr %q", cmd, code, errOut)
		}
	}
}
