package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// python returns an interpreter the sandbox can run (pytest not needed).
func python(t testing.TB) string {
	t.Helper()
	p, _ := FindPython("")
	if p == nil {
		t.Skip("no python3 on this machine")
	}
	return p.Path
}

// levels runs fn once per isolation level, skipping (with the reason) the
// levels this machine does not offer.
func levels(t *testing.T, fn func(t *testing.T, l Level)) {
	caps := Detect()
	for _, st := range caps.Levels {
		t.Run(st.Level.String(), func(t *testing.T) {
			if !st.Available {
				t.Skipf("isolation level %s not available here: %s (fix: %s)", st.Level, st.Reason, st.Fix)
			}
			fn(t, st.Level)
		})
	}
}

func runPy(t *testing.T, l Level, code string, limits Limits, extra ...string) *Result {
	t.Helper()
	res, err := Run(context.Background(), Spec{
		Level:  l,
		Files:  map[string][]byte{"prog.py": []byte(code)},
		Argv:   append([]string{python(t), "prog.py"}, extra...),
		Limits: limits,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// leftovers lists host processes whose command line contains marker.
func leftovers(marker string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

func assertNoProcessesOf(t *testing.T, res *Result) {
	t.Helper()
	if res.UID == 0 {
		return
	}
	if pids := procsOf(res.UID, false); len(pids) > 0 {
		t.Errorf("processes of run uid %d still alive: %v", res.UID, pids)
	}
}

func TestExitCodeOutputAndCleanup(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, "import os, sys\nprint(os.getcwd())\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n", Limits{})
		if res.ExitCode != 3 || res.Level != l {
			t.Fatalf("exit %d level %s, want 3 at %s; stderr %q", res.ExitCode, res.Level, l, res.Stderr)
		}
		if got := strings.TrimSpace(string(res.Stderr)); got != "to stderr" {
			t.Errorf("stderr %q", got)
		}
		dir := strings.TrimSpace(string(res.Stdout))
		if !strings.Contains(dir, "r2c-sandbox-") {
			t.Fatalf("cwd %q is not a run directory", dir)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run directory %s not removed: %v", dir, err)
		}
		if res.Dir != "" {
			t.Errorf("Dir %q set without Keep", res.Dir)
		}
	})
}

func TestKeepAndCollect(t *testing.T) {
	res, err := Run(context.Background(), Spec{
		Files: map[string][]byte{"sub/prog.py": []byte(`import os
open("out.txt", "w").write("result")
os.symlink("/etc/hostname", "link.txt")
os.mkfifo("fifo")
`)},
		Argv:    []string{python(t), "sub/prog.py"},
		Keep:    true,
		Collect: []string{"out.txt", "link.txt", "fifo", "missing.txt", "../escape"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dir == "" {
		t.Fatal("Keep did not report the directory")
	}
	t.Cleanup(func() { os.RemoveAll(res.Dir) })
	if _, err := os.Stat(filepath.Join(res.Dir, "sub", "prog.py")); err != nil {
		t.Errorf("kept directory lacks the program: %v", err)
	}
	if got := string(res.Collected["out.txt"]); got != "result" {
		t.Errorf("collected out.txt = %q", got)
	}
	for _, name := range []string{"link.txt", "fifo", "missing.txt", "../escape"} {
		if _, ok := res.Collected[name]; ok {
			t.Errorf("collected %s, which must not be read", name)
		}
	}
}

func TestRejectsPathsOutsideTheRunDirectory(t *testing.T) {
	for _, name := range []string{"../evil.py", "/etc/evil.py", "a/../../evil.py", "..", "", "."} {
		_, err := Run(context.Background(), Spec{Files: map[string][]byte{name: []byte("x")}, Argv: []string{"/bin/true"}})
		if err == nil || !strings.Contains(err.Error(), "inside the run directory") {
			t.Errorf("%q: err %v", name, err)
		}
	}
}

func TestRejectsAmbiguousOrMalformedFileNames(t *testing.T) {
	for _, tc := range []struct {
		files map[string][]byte
		want  string
	}{
		{map[string][]byte{"a\x00b.py": nil}, "control character"},
		{map[string][]byte{"test_a.py\nconftest.py": nil}, "control character"},
		{map[string][]byte{"a\rb.py": nil}, "control character"},
		{map[string][]byte{"a.py": []byte("1"), "./a.py": []byte("2")}, "name the same file"},
		{map[string][]byte{"pkg/a.py": []byte("1"), "pkg//a.py": []byte("2")}, "name the same file"},
		{map[string][]byte{"pkg": []byte("x"), "pkg/a.py": []byte("y")}, "as a directory"},
		{map[string][]byte{"a": []byte("x"), "a/b/c.py": []byte("y")}, "as a directory"},
	} {
		// The program would show that a bad name got through; it must never run.
		_, err := Run(context.Background(), Spec{Files: tc.files, Argv: []string{python(t), "-c", "print('ran')"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want one saying %q", keysOf(tc.files), err, tc.want)
		}
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestMinLevelRefusesWeakerIsolation(t *testing.T) {
	_, err := Run(context.Background(), Spec{Argv: []string{"/bin/true"}, Level: LevelNone, MinLevel: LevelBubblewrap})
	if !errors.Is(err, ErrIsolation) {
		t.Fatalf("err = %v, want ErrIsolation", err)
	}
	caps := Detect()
	if caps.Best < LevelBubblewrap {
		_, err := Run(context.Background(), Spec{Argv: []string{"/bin/true"}, MinLevel: LevelBubblewrap})
		if !errors.Is(err, ErrIsolation) {
			t.Fatalf("best is %s, MinLevel bubblewrap: err = %v", caps.Best, err)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{LevelAuto, LevelNone, LevelNamespaces, LevelBubblewrap} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("chroot"); err == nil {
		t.Error("ParseLevel accepted chroot")
	}
	if !(LevelNone < LevelNamespaces && LevelNamespaces < LevelBubblewrap) {
		t.Error("levels are not ordered")
	}
}

// Hostile programs. Each must be contained, reported, and leave nothing behind.

func TestHostileInfiniteLoop(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, "while True:\n    pass\n", Limits{Wall: 1500 * time.Millisecond})
		if !res.TimedOut || res.Killed != "wall time" || res.ExitCode != -1 {
			t.Fatalf("not killed by the wall-clock limit: %+v", res)
		}
		assertNoProcessesOf(t, res)
	})
}

func TestHostileCPUBurnHitsCPULimit(t *testing.T) {
	res := runPy(t, LevelAuto, "while True:\n    pass\n", Limits{CPU: time.Second, Wall: 30 * time.Second})
	if res.TimedOut {
		t.Fatal("wall-clock limit fired before the 1 s CPU limit")
	}
	// RLIMIT_CPU: SIGXCPU at the soft limit (or SIGKILL at the hard one).
	if res.ExitCode != 128+24 && res.ExitCode != 128+9 {
		t.Fatalf("exit %d (%s), want death by SIGXCPU/SIGKILL", res.ExitCode, res.Summary())
	}
}

func TestHostileForkBomb(t *testing.T) {
	if !Detect().Root {
		t.Log("not root: RLIMIT_NPROC counts this user's processes, set to their count plus the limit")
	}
	levels(t, func(t *testing.T, l Level) {
		// Every process keeps forking; the children sleep so they pile up.
		res := runPy(t, l, `import os, sys, time
made = 0
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork refused after", made, e.errno, flush=True)
        sys.exit(0)
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    made += 1
print("fork never refused", made, flush=True)
`, Limits{Processes: 20, Wall: 20 * time.Second})
		out := string(res.Stdout)
		if !strings.Contains(out, "fork refused after") {
			t.Fatalf("fork bomb not stopped: %s; stdout %q stderr %q", res.Summary(), out, res.Stderr)
		}
		var made, errno int
		fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(out), "fork refused after "), "%d %d", &made, &errno)
		if made >= 20 || errno != 11 {
			t.Errorf("made %d processes (limit 20), errno %d (want EAGAIN 11)", made, errno)
		}
		assertNoProcessesOf(t, res)
	})
}

func TestHostileAllocate50GiB(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, "b = bytearray(50 * 2**30)\nprint('allocated', len(b))\n", Limits{MemoryBytes: 512 << 20})
		if res.ExitCode == 0 || strings.Contains(string(res.Stdout), "allocated") {
			t.Fatalf("50 GiB allocation succeeded: %s %q", res.Summary(), res.Stdout)
		}
		if !strings.Contains(string(res.Stderr), "MemoryError") {
			t.Errorf("stderr %q lacks MemoryError", res.Stderr)
		}
	})
}

func TestHostileWrite10GB(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res, err := Run(context.Background(), Spec{
			Level: l,
			Files: map[string][]byte{"prog.py": []byte(`chunk = b"x" * (1 << 20)
with open("big.bin", "wb") as f:
    for _ in range(10 * 1024):
        f.write(chunk)
`)},
			Argv:   []string{python(t), "prog.py"},
			Limits: Limits{FileSizeBytes: 4 << 20},
			Keep:   true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(res.Dir) })
		fi, err := os.Stat(filepath.Join(res.Dir, "big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 4<<20 {
			t.Errorf("file grew to %d bytes, limit 4 MiB", fi.Size())
		}
		if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "File too large") {
			t.Errorf("%s, stderr %q: want EFBIG", res.Summary(), res.Stderr)
		}
	})
}

func TestHostileWritesOutside(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	levels(t, func(t *testing.T, l Level) {
		name := fmt.Sprintf("r2c-escape-%d-%s", os.Getpid(), l)
		private := t.TempDir() // 0700, like a user's files
		targets := map[string]string{
			"home":    filepath.Join(home, name),
			"private": filepath.Join(private, name),
			"tmp":     filepath.Join(os.TempDir(), name),
		}
		var code strings.Builder
		code.WriteString("import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'w').write('escaped')\n        print('WROTE', p)\n    except OSError as e:\n        print('refused', p, e)\n")
		res := runPy(t, l, code.String(), Limits{}, targets["home"], targets["private"], targets["tmp"])
		for what, p := range targets {
			_, err := os.Stat(p)
			escaped := err == nil
			os.Remove(p)
			if what == "tmp" && l < LevelBubblewrap && res.UID == 0 {
				// World-writable directories are writable by any uid; only
				// bubblewrap gives the run a private /tmp, and only a run
				// with its own uid has its leftovers there removed.
				if escaped {
					t.Logf("%s: %s written: /tmp is shared below bubblewrap", l, p)
				}
				continue
			}
			if escaped {
				t.Errorf("%s: program wrote %s (%s); stdout %q", l, p, what, res.Stdout)
			}
		}
	})
}

func TestHostileReadsSecrets(t *testing.T) {
	const secret = "sk-r2c-fake-secret-5e1f"
	t.Setenv("R2C_API_KEY", secret)
	t.Setenv("OPENAI_API_KEY", secret)
	t.Setenv("HF_TOKEN", secret)
	t.Setenv("LANG", "C.UTF-8")
	fakeHome := t.TempDir()
	if err := os.MkdirAll(filepath.Join(fakeHome, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(fakeHome, ".ssh", "id_ed25519")
	if err := os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	realHome, _ := os.UserHomeDir()
	t.Setenv("HOME", fakeHome)
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, `import os, sys, glob
print(dict(os.environ))
for p in sys.argv[1:] + glob.glob(os.path.expanduser("~/.ssh/*")):
    try:
        print(p, open(p).read())
    except OSError as e:
        print("refused", p, e)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            print(open("/proc/%s/environ" % pid, "rb").read())
        except OSError:
            pass
`, Limits{}, key, filepath.Join(realHome, ".ssh", "id_rsa"), filepath.Join(realHome, ".ssh", "id_ed25519"), "/proc/"+strconv.Itoa(os.Getpid())+"/environ")
		out := string(res.Stdout) + string(res.Stderr)
		if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE KEY") {
			t.Fatalf("secret leaked:\n%s", out)
		}
		if !strings.Contains(out, "'LANG': 'C.UTF-8'") {
			t.Errorf("allowed variable LANG missing from the child's environment:\n%s", out)
		}
	})
}

func TestHostileConnectsToLocalPort(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		if l < LevelNamespaces {
			t.Skipf("level %s has no network namespace: a local connection cannot be prevented", l)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		res := runPy(t, l, `import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).sendall(b"hello")
    print("CONNECTED")
except OSError as e:
    print("refused", e)
`, Limits{}, strconv.Itoa(port))
		if strings.Contains(string(res.Stdout), "CONNECTED") {
			t.Fatalf("program reached the host's port %d", port)
		}
		// Nothing may be waiting on the listener either.
		ln.(*net.TCPListener).SetDeadline(time.Now())
		if c, err := ln.Accept(); err == nil {
			c.Close()
			t.Fatal("the listener accepted a connection from the sandbox")
		}
	})
}

func TestHostileDaemonIsKilled(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		if l == LevelNone && !Detect().Root {
			t.Skip("level none without root: a setsid daemon leaves the process group and has our uid; only a PID namespace or a run uid catches it")
		}
		marker := fmt.Sprintf("r2c-daemon-marker-%d-%s", os.Getpid(), l)
		res := runPy(t, l, `import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c",
            "import sys, time; open('ready', 'w').close(); time.sleep(600)", sys.argv[1]])
    os._exit(0)
while not os.path.exists("ready"):
    time.sleep(0.01)
print("daemon started")
`, Limits{Wall: 20 * time.Second}, marker)
		if !strings.Contains(string(res.Stdout), "daemon started") {
			t.Fatalf("daemon did not start: %s %q %q", res.Summary(), res.Stdout, res.Stderr)
		}
		if left := leftovers(marker); len(left) > 0 {
			t.Fatalf("daemon outlived the run: %v", left)
		}
		assertNoProcessesOf(t, res)
	})
}

func TestHostilePrints1GB(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, `import sys
chunk = b"y" * (1 << 20)
for _ in range(1024):
    sys.stdout.buffer.write(chunk)
`, Limits{OutputBytes: 64 << 10})
		if !res.Truncated || res.Killed != "output limit" {
			t.Fatalf("output not capped: truncated=%v killed=%q", res.Truncated, res.Killed)
		}
		if len(res.Stdout) != 64<<10+len(TruncationMarker) || !strings.HasSuffix(string(res.Stdout), TruncationMarker) {
			t.Errorf("stdout is %d bytes, want %d plus the marker", len(res.Stdout), 64<<10)
		}
		assertNoProcessesOf(t, res)
	})
}

func TestCancellationKillsTheRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	marker := fmt.Sprintf("r2c-cancel-marker-%d", os.Getpid())
	res, err := Run(ctx, Spec{Files: map[string][]byte{"p.py": []byte("while True:\n    pass\n")}, Argv: []string{python(t), "p.py", marker}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if res == nil || res.Killed != "cancelled" || res.TimedOut {
		t.Fatalf("result %+v", res)
	}
	if left := leftovers(marker); len(left) > 0 {
		t.Fatalf("processes survived cancellation: %v", left)
	}
}

func TestDetectExplainsEveryLevel(t *testing.T) {
	caps := Detect()
	if len(caps.Levels) != 3 {
		t.Fatalf("levels %+v", caps.Levels)
	}
	for _, st := range caps.Levels {
		if !st.Available && (st.Reason == "" || st.Fix == "") {
			t.Errorf("%s unavailable without reason and fix: %+v", st.Level, st)
		}
	}
	t.Logf("best level here: %s; process limit: %s", caps.Best, caps.ProcessLimit)
}

func TestHostileFillsTheDiskWithManyFiles(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		// Each file stays under the per-file limit; together they exceed
		// the disk limit many times over.
		res := runPy(t, l, `chunk = b"x" * (1 << 20)
for i in range(1024):
    with open("part%d.bin" % i, "wb") as f:
        for _ in range(4):
            f.write(chunk)
`, Limits{FileSizeBytes: 4 << 20, DiskBytes: 32 << 20})
		if res.Killed != "disk limit" {
			t.Errorf("%s: want killed for the disk limit; stderr %q", res.Summary(), lastBytes(res.Stderr, 300))
		}
		assertNoProcessesOf(t, res)
	})
}

func TestHostileCreatesHugeNumbersOfFiles(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		res := runPy(t, l, `import os
os.makedirs("d", exist_ok=True)
i = 0
while True:
    open("d/%d" % i, "w").close()
    i += 1
`, Limits{Files: 2000})
		if res.Killed != "file count limit" {
			t.Errorf("%s: want killed for the file count limit; stderr %q", res.Summary(), lastBytes(res.Stderr, 300))
		}
	})
}

func TestHostileFillsInMemoryFileSystems(t *testing.T) {
	caps := Detect()
	if caps.Best < LevelBubblewrap || !caps.BwrapTmpfsSize {
		t.Skip("needs bubblewrap with --size (0.8 or newer) for bounded in-memory file systems")
	}
	// /tmp, /dev/shm and /dev are tmpfs in the host's memory.
	for dir, want := range map[string]string{"/tmp": "No space left", "/dev/shm": "No space left", "/dev": "Read-only file system"} {
		res := runPy(t, LevelBubblewrap, `import sys
chunk = b"x" * (1 << 20)
for i in range(1024):
    with open("%s/part%d.bin" % (sys.argv[1], i), "wb") as f:
        f.write(chunk)
`, Limits{DiskBytes: 16 << 20}, dir)
		if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), want) {
			t.Errorf("%s: %s, stderr %q: want %q", dir, res.Summary(), lastBytes(res.Stderr, 300), want)
		}
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func TestHostileIgnoresSIGTERMAndClosesItsOutput(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		// Closing stdout and stderr ends the readers' wait; ignoring SIGTERM
		// defeats a polite kill. The wall-clock limit must still end it all.
		res := runPy(t, l, `import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.close(1)
os.close(2)
while True:
    time.sleep(0.05)
`, Limits{Wall: time.Second})
		if !res.TimedOut {
			t.Errorf("%s: want the wall-clock limit to kill it", res.Summary())
		}
		assertNoProcessesOf(t, res)
	})
}
