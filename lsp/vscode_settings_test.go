package lsp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/config"
)

// The VS Code extension maps its settings to initializationOptions; the
// server decodes them strictly (unknown keys are errors), so the mapping is
// checked against the server's own decoder.
func TestVSCodeSettingsDecodeAsServerConfiguration(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	ext, _ := filepath.Abs(filepath.Join("..", "vscode-extension"))
	if _, err := os.Stat(filepath.Join(ext, "node_modules", "typescript")); err != nil {
		t.Skip("vscode-extension dependencies not installed (cd vscode-extension && npm install)")
	}
	out := t.TempDir()
	tsc := exec.Command(node, filepath.Join(ext, "node_modules", "typescript", "bin", "tsc"), "-p", ext, "--outDir", out)
	if b, err := tsc.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, b)
	}
	script := `const s = require(process.argv[1]);
const v = {endpoint: "http://gpu:8080/v1", model: "my-adapter", styleProfile: "p.json", python: "/usr/bin/python3",
  debounce: "50ms", logFile: "/tmp/r2c.log", validateOnSave: true, styleDiagnostics: false};
process.stdout.write(JSON.stringify(s.settingsToOptions((k, f) => k in v ? v[k] : f)));`
	b, err := exec.Command(node, "-e", script, filepath.Join(out, "settings.js")).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	over, err := config.ParseJSON(b)
	if err != nil {
		t.Fatalf("the server rejects the extension's options %s: %v", b, err)
	}
	cfg := config.Default()
	cfg.Merge(over)
	if cfg.Endpoint != "http://gpu:8080/v1" || cfg.Model.Name != "my-adapter" || cfg.Style.Profile != "p.json" ||
		cfg.Sandbox.Python != "/usr/bin/python3" || cfg.Server.DebounceDelay() != 50*time.Millisecond ||
		cfg.Server.LogFile != "/tmp/r2c.log" || !*cfg.Server.ValidateOnSave || *cfg.Style.Diagnostics {
		t.Fatalf("options %s decode to %+v", b, cfg)
	}
	// Defaults map to no overrides beyond the two booleans.
	b, err = exec.Command(node, "-e", `const s = require(process.argv[1]); process.stdout.write(JSON.stringify(s.settingsToOptions((k, f) => f)));`, filepath.Join(out, "settings.js")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.ParseJSON(b); err != nil {
		t.Fatalf("default options %s: %v", b, err)
	}
}
