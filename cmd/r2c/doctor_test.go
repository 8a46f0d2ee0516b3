package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/sandbox"
)

type doctorJSON struct {
	Checks []checkResult `json:"checks"`
	OK     bool          `json:"ok"`
}

func runDoctorJSON(t *testing.T, root string) (doctorJSON, int) {
	t.Helper()
	out, errOut, code := runCLI(t, "doctor", "--json", "--root", root)
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	return d, code
}

func find(d doctorJSON, name string) checkResult {
	for _, c := range d.Checks {
		if c.Name == name {
			return c
		}
	}
	return checkResult{}
}

func TestDoctorReportsTheMachine(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	d, code := runDoctorJSON(t, root)
	caps := sandbox.Detect()
	if got := find(d, "sandbox"); got.Status != checkOK || !strings.Contains(got.Detail, caps.Best.String()) {
		t.Errorf("sandbox check %+v, best level is %s", got, caps.Best)
	}
	for _, st := range caps.Levels {
		c := find(d, "sandbox level "+st.Level.String())
		if st.Available != (c.Status == checkOK) || (!st.Available && c.Fix == "") {
			t.Errorf("level %s: check %+v, detect %+v", st.Level, c, st)
		}
	}
	_, pyErr := sandbox.FindPython("")
	if (find(d, "pytest").Status == checkOK) != (pyErr == nil) {
		t.Errorf("pytest check %+v, FindPython error %v", find(d, "pytest"), pyErr)
	}
	if (code == exitOK) != d.OK {
		t.Errorf("exit %d with ok=%v", code, d.OK)
	}
	out, _, _ := runCLI(t, "doctor", "--root", root)
	if !strings.Contains(out, "configuration:") || !strings.Contains(out, "sandbox.min_isolation") || !strings.Contains(out, "checks:") {
		t.Errorf("text output:\n%s", out)
	}
}

func TestDoctorFailsWithFixes(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("R2C_PYTHON", "/nonexistent/python3")
	root := t.TempDir()
	d, code := runDoctorJSON(t, root)
	if code != exitFail || d.OK {
		t.Fatalf("missing interpreter: exit %d ok %v", code, d.OK)
	}
	if c := find(d, "python"); c.Status != checkFail || c.Fix == "" {
		t.Errorf("python check %+v", c)
	}

	t.Setenv("R2C_PYTHON", "")
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte("[sandbox]\nmin_isolaton = \"bubblewrap\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, code = runDoctorJSON(t, root)
	if c := find(d, "config"); code != exitFail || c.Status != checkFail || !strings.Contains(c.Detail, "min_isolaton") {
		t.Errorf("misspelt key: exit %d, config check %+v", code, c)
	}
}

func TestDoctorMinIsolationAboveBest(t *testing.T) {
	if sandbox.Detect().Best >= sandbox.LevelBubblewrap {
		t.Skip("bubblewrap works here: min_isolation cannot exceed the best level")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("R2C_MIN_ISOLATION", "bubblewrap")
	d, code := runDoctorJSON(t, t.TempDir())
	if c := find(d, "sandbox"); code != exitFail || c.Status != checkFail {
		t.Errorf("exit %d, sandbox check %+v", code, c)
	}
}
