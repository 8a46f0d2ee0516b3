package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/style"
)

// TestNeovim uses headless Neovim (0.7.2 in Debian) as a real client of the
// built r2c binary, through the plugin in nvim/: style diagnostics while
// editing, then "Validate module" picked from the code actions.
func TestNeovim(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		t.Skip("nvim not installed (Debian: apt-get install neovim)")
	}
	if !hasPytest() {
		t.Skip("no python3 with pytest (Debian: apt-get install python3-pytest)")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "r2c")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ws := filepath.Join(tmp, "ws")
	write := func(rel, text string) {
		p := filepath.Join(ws, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A code base in snake_case, its learned profile, and r2c.toml pointing at it.
	for _, n := range []string{"a", "b", "c", "d"} {
		write("lib/"+n+".py", "def compute_"+n+"(first, second):\n    total_sum = first + second\n    return total_sum\n\n\ndef scale_"+n+"(value):\n    return value * 2\n")
	}
	profile, err := style.Learn(context.Background(), []string{filepath.Join(ws, "lib")})
	if err != nil {
		t.Fatal(err)
	}
	if err := profile.Save(filepath.Join(ws, ".r2c", "style.json")); err != nil {
		t.Fatal(err)
	}
	// And a camelCase code base to learn a contrary profile from.
	for _, n := range []string{"a", "b", "c", "d"} {
		write("camel/"+n+".py", "def computeThing"+strings.ToUpper(n)+"(firstValue, secondValue):\n    totalSum = firstValue + secondValue\n    return totalSum\n\n\ndef scaleThing"+strings.ToUpper(n)+"(inputValue):\n    return inputValue * 2\n")
	}
	write("r2c.toml", "[style]\nprofile = \".r2c/style.json\"\nmin_evidence = 2\n")
	write("mod.py", "def computeValue(a, b):\n    if a > 1:\n        raise ValueError('too big')\n    return a + b\n")
	write("test_mod.py", "from mod import computeValue\n\n\ndef test_compute():\n    assert computeValue(2, 2) == 4\n")

	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(tmp, "out.json")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
		"--cmd", "set rtp+="+filepath.Join(repo, "nvim"),
		"--cmd", "filetype on",
		"-c", "luafile "+filepath.Join(repo, "nvim", "test", "session.lua"))
	cmd.Dir = ws
	cmd.Env = append(os.Environ(),
		"R2C_BIN="+bin, "R2C_FILE="+filepath.Join(ws, "mod.py"), "R2C_OUT="+outPath,
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"), "XDG_STATE_HOME="+filepath.Join(tmp, "state"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatalf("nvim wrote no result: %v", err)
	}
	type diag struct {
		Lnum    int    `json:"lnum"`
		Message string `json:"message"`
		Source  string `json:"source"`
		Code    any    `json:"code"`
	}
	var res struct {
		Error     string   `json:"error"`
		Style     []diag   `json:"style"`
		Actions   []string `json:"actions"`
		Validated []diag   `json:"validated"`
		Summary   struct {
			OK     bool `json:"ok"`
			Report struct {
				Tests map[string]int `json:"tests"`
			} `json:"report"`
		} `json:"summary"`
		ValidateError string `json:"validate_error"`
		FixTitle      string `json:"fix_title"`
		FixedLine     string `json:"fixed_line"`
		AfterFix      []diag `json:"after_fix"`

		LearnError          string   `json:"learn_error"`
		LearnSummary        string   `json:"learn_summary"`
		AfterLearn          []diag   `json:"after_learn"`
		Watched             []string `json:"watched"`
		TerminalLearnStatus int      `json:"terminal_learn_status"`
		AfterTerminalLearn  []diag   `json:"after_terminal_learn"`
		RecreateLearnStatus int      `json:"recreate_learn_status"`
		AfterRecreate       []diag   `json:"after_recreate"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("result %s: %v", b, err)
	}
	t.Logf("neovim saw: %s", b)
	if res.Error != "" || res.ValidateError != "" {
		t.Fatalf("session failed: %s %s\n%s", res.Error, res.ValidateError, b)
	}
	find := func(list []diag, source string, line int) bool {
		for _, d := range list {
			if d.Source == source && d.Lnum == line {
				return true
			}
		}
		return false
	}
	if !find(res.Style, "r2c-style", 0) || !strings.Contains(string(b), "snake_case") {
		t.Errorf("no style diagnostic on computeValue: %+v", res.Style)
	}
	if res.Summary.OK || res.Summary.Report.Tests["failed"] != 1 {
		t.Errorf("validate summary %+v, want one failed test", res.Summary)
	}
	if !find(res.Validated, "r2c-test", 2) {
		t.Errorf("no r2c-test diagnostic on the raise (line 2): %+v", res.Validated)
	}
	if !find(res.Validated, "r2c-style", 0) {
		t.Errorf("style diagnostics lost after validation: %+v", res.Validated)
	}
	if res.FixedLine != "def compute_value(a, b):" || !strings.Contains(res.FixTitle, "compute_value") {
		t.Errorf("quick fix %q left line 1 as %q", res.FixTitle, res.FixedLine)
	}
	for _, d := range res.AfterFix {
		if d.Source == "r2c-style" {
			t.Errorf("style diagnostic left after the quick fix: %+v", d)
		}
	}

	// r2c.learnStyle from the camelCase code: compute_value now breaks the profile.
	if res.LearnError != "" || !strings.Contains(res.LearnSummary, "camelCase") {
		t.Errorf("learnStyle: error %q, summary %q", res.LearnError, res.LearnSummary)
	}
	if !find(res.AfterLearn, "r2c-style", 0) {
		t.Errorf("no style diagnostic on compute_value under the learned camelCase profile: %+v", res.AfterLearn)
	}
	// `r2c style learn` in a terminal: the plugin's watcher reports it and
	// the server reloads the profile from disk.
	profilePath := filepath.Join(ws, ".r2c", "style.json")
	if !slices.Contains(res.Watched, filepath.Dir(profilePath)) {
		t.Errorf("the plugin watches %v, want the profile's folder %s", res.Watched, filepath.Dir(profilePath))
	}
	if res.TerminalLearnStatus != 0 {
		t.Errorf("r2c style learn exited %d", res.TerminalLearnStatus)
	}
	for _, d := range res.AfterTerminalLearn {
		if d.Source == "r2c-style" {
			t.Errorf("style diagnostic left after the profile was relearned on disk (not reloaded?): %+v", d)
		}
	}
	// .r2c/ removed and created anew by `r2c style learn` (camelCase again).
	if res.RecreateLearnStatus != 0 || !find(res.AfterRecreate, "r2c-style", 0) {
		t.Errorf("after .r2c/ was recreated (r2c style learn exit %d) the camelCase profile was not picked up: %+v", res.RecreateLearnStatus, res.AfterRecreate)
	}
}

func hasPytest() bool {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import pytest").Run() == nil {
			return true
		}
	}
	return false
}
