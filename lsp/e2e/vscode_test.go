package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
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

// vscodeResult is what e2e/drive.cjs saw in the workbench.
type vscodeResult struct {
	Steps         []string `json:"steps"`
	Status        string   `json:"status"`
	SyntaxRows    []string `json:"syntax_rows"`
	Sections      []string `json:"sections"`
	ImplementNote string   `json:"implement_note"`
	OpenedEditor  string   `json:"opened_editor"`
	ValidateNote  string   `json:"validate_note"`
	Restarted     string   `json:"restarted"`
	RunLog        string   `json:"run_log"`
	Error         string   `json:"error"`
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestVSCode installs the extension's .vsix into code-server (VS Code
// 1.99.3 in the browser), opens the workspace in headless Chromium and goes
// through the scenario as a user would: the server starts (status bar), a
// syntax error shows once in the Problems panel, "r2c: Implement Paper
// Section…" through the palette (paper, section and folder picked in the
// pickers) writes the files and opens the module, "Validate Module" reports
// the tests, and "Restart Server" brings the server back.
//
// It runs under `make test-vscode`, which builds the .vsix and installs
// code-server; the paths come from the environment:
// R2C_VSIX, R2C_CODE_SERVER (its folder, see e2e/install-code-server.sh),
// R2C_ARTIFACTS (screenshots), CHROMIUM (default /usr/bin/chromium).
func TestVSCode(t *testing.T) {
	vsix, csDir := os.Getenv("R2C_VSIX"), os.Getenv("R2C_CODE_SERVER")
	if vsix == "" || csDir == "" {
		t.Skip("run through `make test-vscode` (needs R2C_VSIX and R2C_CODE_SERVER)")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium not found at %s (Debian: apt-get install chromium)", chromium)
	}
	needPytest(t, true)
	artifacts := os.Getenv("R2C_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	srv := llmtest.New(t)
	orchestratortest.Script(t, srv)
	ws := workspace(t, srv, false)
	buildR2C(t, ws) // ws/bin/r2c: found by the extension without any setting

	tmp := t.TempDir()
	userData, extDir := filepath.Join(tmp, "user-data"), filepath.Join(tmp, "extensions")
	settings := map[string]any{
		"security.workspace.trust.enabled": false,
		"workbench.startupEditor":          "none",
		"workbench.tips.enabled":           false,
		"extensions.autoCheckUpdates":      false,
		"extensions.autoUpdate":            false,
		"telemetry.telemetryLevel":         "off",
		"workbench.colorTheme":             "Default Light Modern",
		"r2c.model":                        "scripted-model",
	}
	sb, _ := json.Marshal(settings)
	if err := os.MkdirAll(filepath.Join(userData, "User"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(userData, "User", "settings.json"), sb, 0o644); err != nil {
		t.Fatal(err)
	}
	csConfig := filepath.Join(tmp, "code-server.yaml")
	if err := os.WriteFile(csConfig, []byte("auth: none\ncert: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	codeServer := filepath.Join(csDir, "node_modules", ".bin", "code-server")
	base := []string{"--config", csConfig, "--user-data-dir", userData, "--extensions-dir", extDir}

	start := time.Now()
	install := exec.Command(codeServer, append(base, "--install-extension", vsix)...)
	if out, err := install.CombinedOutput(); err != nil || !strings.Contains(string(out), "was successfully installed") {
		t.Fatalf("code-server --install-extension %s: %v\n%s", vsix, err, out)
	}
	t.Logf("extension installed in %s", time.Since(start).Round(time.Millisecond))

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serverLog, _ := os.Create(filepath.Join(artifacts, "code-server.log"))
	defer serverLog.Close()
	cs := exec.CommandContext(ctx, codeServer, append(base, "--bind-addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", ws)...)
	cs.Stdout, cs.Stderr = serverLog, serverLog
	cs.Env = append(os.Environ(), "R2C_TEST_NO_KEY=")
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cs.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(url + "healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("code-server did not listen on %s within 90s (see %s)", url, serverLog.Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("code-server up after %s", time.Since(start).Round(time.Millisecond))

	resultPath := filepath.Join(tmp, "result.json")
	drive := exec.Command("node", filepath.Join(repoRoot(t), "vscode-extension", "e2e", "drive.cjs"))
	drive.Env = append(os.Environ(),
		"NODE_PATH="+filepath.Join(csDir, "node_modules"),
		"R2C_URL="+url+"?folder="+ws,
		"R2C_RESULT="+resultPath,
		"R2C_ARTIFACTS="+artifacts,
		"CHROMIUM="+chromium,
	)
	out, err := drive.CombinedOutput()
	t.Logf("drive.cjs after %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	var res vscodeResult
	if b, rerr := os.ReadFile(resultPath); rerr == nil {
		_ = json.Unmarshal(b, &res)
	}
	if err != nil || res.Error != "" {
		t.Fatalf("the workbench scenario failed (%v): %s; steps done: %v; screenshots in %s", err, res.Error, res.Steps, artifacts)
	}

	// What the workbench showed, checked here against what r2c did.
	if !strings.Contains(res.Status, "r2c: scripted-model") {
		t.Errorf("status bar %q, want the server running with the model", res.Status)
	}
	if len(res.SyntaxRows) != 1 {
		t.Errorf("Problems panel syntax rows %q, want exactly one", res.SyntaxRows)
	}
	if !slices.ContainsFunc(res.Sections, func(s string) bool { return strings.Contains(s, "3.2 Scaled Dot-Product Attention") }) {
		t.Errorf("section picker rows %q lack 3.2", res.Sections)
	}
	target := filepath.Join(ws, "scaled_dot_product_attention")
	files := generated(t, target)
	if !slices.Contains(files, "attention.py") || !slices.Contains(files, "test_attention.py") {
		t.Errorf("generated files %v in %s", files, target)
	}
	if !strings.Contains(res.ImplementNote, "passed") {
		t.Errorf("implement notification %q", res.ImplementNote)
	}
	if res.OpenedEditor != "attention.py" {
		t.Errorf("opened editor %q, want attention.py", res.OpenedEditor)
	}
	if !strings.Contains(res.ValidateNote, "5/5 tests passed") {
		t.Errorf("validate notification %q", res.ValidateNote)
	}
	// The restart: a server start logged after the last validation.
	if !strings.Contains(res.Restarted, "r2c: scripted-model") || strings.LastIndex(res.RunLog, "server: starting ") < strings.LastIndex(res.RunLog, "Validate attention.py: started") {
		t.Errorf("after restart: status %q, run log:\n%s", res.Restarted, res.RunLog)
	}
	for _, want := range []string{"Implement 3.2 Scaled Dot-Product Attention: started", "Implementer", "Validator"} {
		if !strings.Contains(res.RunLog, want) {
			t.Errorf("run log lacks %q:\n%s", want, res.RunLog)
		}
	}
}
