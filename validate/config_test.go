package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
)

// loadSandboxConfig reads [sandbox] from a real r2c.toml, so the test covers
// the keys' names and units as a user writes them.
func loadSandboxConfig(t *testing.T, toml string) config.Sandbox {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, config.FileName), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Sandbox
}

func runWithConfig(t *testing.T, s config.Sandbox, code string) *sandbox.Result {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil {
		t.Skipf("no python3: %v", err)
	}
	res, err := sandbox.Run(context.Background(), sandbox.Spec{
		Files:  map[string][]byte{"prog.py": []byte(code)},
		Argv:   []string{py.Path, "prog.py"},
		Limits: LimitsFromConfig(s),
		Keep:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(res.Dir) })
	return res
}

func TestSandboxConfigFileAndOutputLimits(t *testing.T) {
	s := loadSandboxConfig(t, "[sandbox]\nfile_mb = 1\noutput_kb = 4\ntimeout = \"30s\"\n")
	res := runWithConfig(t, s, `import sys
try:
    with open("big.bin", "wb") as f:
        f.write(b"x" * (2 << 20))
except OSError as e:
    print("write failed:", e, file=sys.stderr)
sys.stderr.flush()
sys.stdout.write("y" * (64 << 10))
`)
	fi, err := os.Stat(filepath.Join(res.Dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Errorf("file_mb = 1 let the program write %d bytes", fi.Size())
	}
	if !strings.Contains(string(res.Stderr), "File too large") {
		t.Errorf("want EFBIG from file_mb = 1, stderr %q", res.Stderr)
	}
	out := strings.TrimSuffix(string(res.Stdout), sandbox.TruncationMarker)
	if !res.Truncated || len(out) > 4<<10 || len(out) == len(res.Stdout) {
		t.Errorf("output_kb = 4 kept %d bytes of stdout (truncated %v)", len(out), res.Truncated)
	}
}

func TestSandboxConfigCPULimit(t *testing.T) {
	s := loadSandboxConfig(t, "[sandbox]\ncpu = \"1s\"\ntimeout = \"30s\"\n")
	res := runWithConfig(t, s, "while True:\n    pass\n")
	if res.TimedOut {
		t.Fatal("the 30 s wall-clock limit fired before cpu = 1s")
	}
	// RLIMIT_CPU: SIGXCPU at the soft limit (or SIGKILL at the hard one).
	if res.ExitCode != 128+24 && res.ExitCode != 128+9 {
		t.Fatalf("exit %d (%s), want death by SIGXCPU/SIGKILL from cpu = 1s", res.ExitCode, res.Summary())
	}
}

func TestSandboxConfigDefaultsMatchTheSandbox(t *testing.T) {
	// The documented defaults of [sandbox] are the sandbox's own, so a user
	// who copies the README's block changes nothing.
	got := LimitsFromConfig(config.Default().Sandbox)
	want := sandbox.DefaultLimits()
	if got != want {
		t.Fatalf("config defaults give %+v, the sandbox's defaults are %+v", got, want)
	}
}
