package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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

// doctorChildEnv makes the test binary run `r2c doctor` with its arguments
// instead of the tests: sandbox.Detect probes once per process, so a PATH
// without bwrap needs a process of its own.
const doctorChildEnv = "R2C_TEST_DOCTOR_CHILD_ARGS"

func TestDoctorChildProcess(t *testing.T) {
	args := os.Getenv(doctorChildEnv)
	if args == "" {
		t.Skip("runs only as the child of TestDoctorWithoutBwrapOnPath")
	}
	os.Exit(run(context.Background(), strings.NewReader(""), os.Stdout, os.Stderr, strings.Split(args, "\x1f")))
}

// runDoctorWithPath runs the doctor in a child process whose PATH holds
// only the named tools (links to the real ones), in a directory other users
// may search unless private.
func runDoctorWithPath(t *testing.T, tools []string, private bool, env []string, args ...string) (string, int) {
	t.Helper()
	bin, err := os.MkdirTemp("", "r2c-doctor-path-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	mode := os.FileMode(0o755)
	if private {
		mode = 0o700
	}
	if err := os.Chmod(bin, mode); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDoctorChildProcess$")
	cmd.Env = append([]string{
		"PATH=" + bin,
		"HOME=" + t.TempDir(),
		"XDG_CONFIG_HOME=" + t.TempDir(),
		doctorChildEnv + "=" + strings.Join(append([]string{"doctor"}, args...), "\x1f"),
	}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if errb.Len() > 0 {
		t.Logf("child stderr: %s", errb.String())
	}
	return out.String(), code
}

func TestDoctorWithoutBwrapOnPath(t *testing.T) {
	if sandbox.Detect().Best == sandbox.LevelAuto {
		t.Skip("no sandbox level works here at all")
	}
	tools := []string{"prlimit", "unshare", "true"}
	root := t.TempDir()
	out, code := runDoctorWithPath(t, tools, false, nil, "--json", "--root", root)
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	bw := find(d, "sandbox level bubblewrap")
	if bw.Status != checkWarn || !strings.Contains(bw.Detail, "bwrap not found") || !strings.Contains(bw.Fix, "apt-get install bubblewrap") {
		t.Errorf("bubblewrap check without bwrap on PATH: %+v", bw)
	}
	if sb := find(d, "sandbox"); sb.Status != checkOK || strings.Contains(sb.Detail, "bubblewrap") {
		t.Errorf("sandbox check: %+v, want ok at a lower level", sb)
	}
	// No python3 on PATH: the doctor falls back to /usr/bin/python3 and
	// says which one it found, or fails with the fix.
	py := find(d, "python")
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		if py.Status != checkOK || !strings.Contains(py.Detail, "/usr/bin/python3") {
			t.Errorf("python check with no python3 on PATH: %+v, want /usr/bin/python3", py)
		}
	} else if py.Status != checkFail || py.Fix == "" {
		t.Errorf("python check with no python3 anywhere: %+v", py)
	}
	if (code == exitOK) != d.OK {
		t.Errorf("exit %d with ok=%v", code, d.OK)
	}

	// Demanding bubblewrap without bwrap fails, naming the package to install.
	out, code = runDoctorWithPath(t, tools, false, []string{"R2C_MIN_ISOLATION=bubblewrap"}, "--root", root)
	if code != exitFail || !strings.Contains(out, "bwrap not found") || !strings.Contains(out, "fix: apt-get install bubblewrap") || !strings.Contains(out, "runs are refused") {
		t.Errorf("min_isolation bubblewrap without bwrap: exit %d\n%s", code, out)
	}
}

func TestDoctorToolsTheRunUIDCannotExecute(t *testing.T) {
	if !sandbox.Detect().Root {
		t.Skip("runs get their own uid only when r2c is root")
	}
	if sandbox.Detect().Best == sandbox.LevelAuto {
		t.Skip("no sandbox level works here at all")
	}
	// As root, r2c starts prlimit (and bwrap, unshare) as the run's
	// unprivileged uid; tools only root can reach must be named as the cause.
	out, _ := runDoctorWithPath(t, []string{"prlimit", "unshare", "bwrap"}, true, nil, "--json", "--root", t.TempDir())
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	none := find(d, "sandbox level none")
	if none.Status == checkOK || !strings.Contains(none.Detail, "prlimit at ") || !strings.Contains(none.Detail, "unprivileged uid") || !strings.Contains(none.Fix, "world-executable") {
		t.Errorf("level none with prlimit in a private directory: %+v", none)
	}
	if sb := find(d, "sandbox"); sb.Status != checkFail {
		t.Errorf("sandbox check %+v, want fail: nothing can run", sb)
	}
}
