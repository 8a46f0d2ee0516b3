package e2e_test

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

	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
)

// TestNeovimCommands runs every command of the Neovim plugin in headless
// Neovim against the real r2c binary and the scripted model server:
// :checkhealth r2c, :R2cValidate (a syntax error shown once), :R2cIndex,
// :R2cImplement through vim.ui.select over the section tree (the generated
// files written, the module opened, and no second server rooted in the
// generated folder), :R2cValidate on the result, :R2cStyleLearn, :R2cLog,
// :R2cRestart and :R2cCancel. On Debian's Neovim 0.7 the implement edit
// cannot create a file in a new folder; the server then writes the files
// itself and says so.
func TestNeovimCommands(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		t.Skip("nvim not installed (Debian: apt-get install neovim)")
	}
	needPytest(t, false)
	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	ws := workspace(t, srv, true)
	tmp := t.TempDir()
	bin := buildR2C(t, tmp)
	// A marker at the root, as a project has; the generated folder has none.
	if err := os.Mkdir(filepath.Join(ws, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}

	outPath := filepath.Join(tmp, "out.json")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	repo := repoRoot(t)
	cmd := exec.CommandContext(ctx, nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
		"--cmd", "set rtp+="+filepath.Join(repo, "nvim"),
		"--cmd", "filetype on",
		"-c", "luafile "+filepath.Join(repo, "nvim", "test", "commands.lua"))
	cmd.Dir = ws
	cmd.Env = append(os.Environ(),
		"R2C_BIN="+bin, "R2C_WS="+ws, "R2C_OUT="+outPath, "R2C_TEST_NO_KEY=",
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"), "XDG_STATE_HOME="+filepath.Join(tmp, "state"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"))
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatalf("nvim wrote no result: %v", err)
	}
	var res struct {
		Error string `json:"error"`
		Notes []struct {
			Msg   string `json:"msg"`
			Level int    `json:"level"`
		} `json:"notes"`
		Selects []struct {
			Prompt string   `json:"prompt"`
			Rows   []string `json:"rows"`
		} `json:"selects"`
		Inputs []struct {
			Prompt  string `json:"prompt"`
			Default string `json:"default"`
		} `json:"inputs"`
		Root                string   `json:"root"`
		Health              []string `json:"health"`
		ValidateBad         string   `json:"validate_bad"`
		SyntaxAfterValidate int      `json:"syntax_after_validate"`
		IndexNote           string   `json:"index_note"`
		ImplementNote       string   `json:"implement_note"`
		Opened              string   `json:"opened"`
		GeneratedRoot       string   `json:"generated_root"`
		Clients             int      `json:"clients"`
		ValidateGenerated   string   `json:"validate_generated"`
		LearnNote           string   `json:"learn_note"`
		ProfileWritten      bool     `json:"profile_written"`
		Log                 []string `json:"log"`
		LogName             string   `json:"log_name"`
		Restarted           bool     `json:"restarted"`
		RestartNote         string   `json:"restart_note"`
		CancelNote          string   `json:"cancel_note"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("result %s: %v", b, err)
	}
	t.Logf("neovim (%s) saw: %s", time.Since(start).Round(time.Millisecond), b)
	if res.Error != "" {
		t.Fatalf("session failed: %s", res.Error)
	}

	health := strings.Join(res.Health, "\n")
	for _, want := range []string{"r2c: binary", "r2c dev", "r2c: project " + ws, "pytest", "endpoint", "sandbox"} {
		if !strings.Contains(health, want) {
			t.Errorf(":checkhealth r2c lacks %q:\n%s", want, health)
		}
	}
	if res.SyntaxAfterValidate != 1 {
		t.Errorf("%d r2c-syntax diagnostics after :R2cValidate on bad.py, want 1 (%s)", res.SyntaxAfterValidate, res.ValidateBad)
	}
	if !strings.Contains(res.IndexNote, "attention.md") {
		t.Errorf(":R2cIndex said %q", res.IndexNote)
	}
	if len(res.Selects) != 2 || !slices.ContainsFunc(res.Selects[0].Rows, func(r string) bool { return r == "papers/attention.md" }) {
		t.Fatalf("paper picker %+v", res.Selects)
	}
	if !slices.ContainsFunc(res.Selects[1].Rows, func(r string) bool { return strings.HasPrefix(r, "  3.2 Scaled Dot-Product Attention") }) {
		t.Errorf("section picker rows %q lack 3.2 under 3", res.Selects[1].Rows)
	}
	target := filepath.Join(ws, "scaled_dot_product_attention")
	if len(res.Inputs) != 1 || res.Inputs[0].Default != target {
		t.Errorf("folder prompt %+v, want default %s", res.Inputs, target)
	}
	files := generated(t, target)
	if !slices.Contains(files, "attention.py") || !slices.Contains(files, "test_attention.py") {
		t.Errorf("generated files %v", files)
	}
	if !strings.Contains(res.ImplementNote, "passed: 2 files") {
		t.Errorf(":R2cImplement said %q", res.ImplementNote)
	}
	if res.Opened != filepath.Join(target, "attention.py") {
		t.Errorf("opened %q after implementing", res.Opened)
	}
	if res.GeneratedRoot != ws || res.Root != ws || res.Clients != 1 {
		t.Errorf("roots: workspace %q, generated module %q, %d servers; want one server rooted at %s", res.Root, res.GeneratedRoot, res.Clients, ws)
	}
	if !strings.Contains(res.ValidateGenerated, "5/5 tests passed") {
		t.Errorf(":R2cValidate on the generated module said %q", res.ValidateGenerated)
	}
	if !res.ProfileWritten {
		t.Errorf(":R2cStyleLearn wrote no profile (%q)", res.LearnNote)
	}
	log := strings.Join(res.Log, "\n")
	if !strings.Contains(res.LogName, "r2c:") || !strings.Contains(log, "Implement") || !strings.Contains(log, "Validator") {
		t.Errorf(":R2cLog %s:\n%s", res.LogName, log)
	}
	if !res.Restarted || res.RestartNote == "" {
		t.Errorf("restart: new client %v, note %q", res.Restarted, res.RestartNote)
	}
	if res.CancelNote == "" {
		t.Errorf(":R2cCancel with nothing running said nothing")
	}
	for _, n := range res.Notes {
		if n.Level >= 4 { // vim.log.levels.ERROR
			t.Errorf("error notification: %s", n.Msg)
		}
	}
}
