package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/r2c-ai/r2c/internal/safepath"
)

// ErrIsolation is returned (wrapped) when the isolation a Spec demands is not
// available on this machine.
var ErrIsolation = errors.New("required isolation level not available")

// sandboxPath is the PATH every program sees.
const sandboxPath = "/usr/local/bin:/usr/bin:/bin"

// passedThrough are the parent's variables copied when set; everything else
// in r2c's environment, API keys and tokens included, is dropped.
var passedThrough = []string{"LANG", "LC_ALL", "LC_CTYPE", "TZ"}

// AllowedEnv returns the environment a program in a run directory dir gets
// (before Spec.Env): a fixed PATH, HOME and TMPDIR inside the run directory,
// deterministic Python settings, single-threaded numeric libraries (threads
// count against Limits.Processes) and the locale variables of the parent.
func AllowedEnv(dir string) map[string]string {
	env := map[string]string{
		"PATH":                    sandboxPath,
		"HOME":                    dir,
		"TMPDIR":                  dir,
		"LANG":                    "C.UTF-8",
		"PYTHONHASHSEED":          "0",
		"PYTHONDONTWRITEBYTECODE": "1",
		"PYTHONUNBUFFERED":        "1",
		"PYTHONNOUSERSITE":        "1",
		"OMP_NUM_THREADS":         "1",
		"OPENBLAS_NUM_THREADS":    "1",
		"MKL_NUM_THREADS":         "1",
		"MPLBACKEND":              "Agg",
	}
	for _, k := range passedThrough {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			env[k] = v
		}
	}
	return env
}

// lookSandboxPath finds a program the way the sandbox's PATH would.
func lookSandboxPath(name string) (string, error) {
	if !strings.Contains(name, "/") {
		for _, dir := range filepath.SplitList(sandboxPath) {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("sandbox: program %q not found in %s (give an absolute path)", name, sandboxPath)
}

// Run executes spec.Argv in a fresh run directory under spec's limits and
// the best (or the requested) isolation level. It blocks until every process
// of the run has been killed or has exited. A failing program is reported in
// the Result; errors are for runs that could not be set up, for isolation
// below spec.MinLevel (ErrIsolation), and for cancellation of ctx (the
// Result is returned too, with Killed "cancelled").
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("sandbox: empty argv")
	}
	if _, err := checkFileNames(spec.Files); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(spec.Argv[0]) {
		p, err := lookSandboxPath(spec.Argv[0])
		if err != nil {
			return nil, err
		}
		spec.Argv = append([]string{p}, spec.Argv[1:]...)
	}
	caps := Detect()
	level := spec.Level
	if caps.Best == LevelAuto {
		st := caps.status(LevelNone)
		return nil, fmt.Errorf("sandbox: no isolation level works here: %s (fix: %s)", st.Reason, st.Fix)
	}
	if level == LevelAuto {
		level = caps.Best
	} else if st := caps.status(level); !st.Available {
		return nil, fmt.Errorf("sandbox: %w: %s is not available here: %s (fix: %s)", ErrIsolation, level, st.Reason, st.Fix)
	}
	if level < spec.MinLevel {
		st := caps.status(spec.MinLevel)
		return nil, fmt.Errorf("sandbox: %w: the configuration demands %s but the best level here is %s: %s (fix: %s)",
			ErrIsolation, spec.MinLevel, level, st.Reason, st.Fix)
	}
	return run(ctx, spec, level, caps)
}

func run(ctx context.Context, spec Spec, level Level, caps Capabilities) (res *Result, err error) {
	limits := spec.Limits.withDefaults()
	dir, err := os.MkdirTemp("", "r2c-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// MkdirTemp may live under a symlinked /tmp; bwrap binds real paths.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	defer func() {
		if spec.Keep && res != nil {
			res.Dir = dir
			return
		}
		if rmErr := removeAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("sandbox: remove run directory: %w", rmErr)
		}
	}()
	if err := writeFiles(dir, spec.Files); err != nil {
		return nil, err
	}
	uid := 0
	if caps.Root {
		if err := othersCanExec(spec.Argv[0]); err != nil {
			return nil, fmt.Errorf("sandbox: the run's unprivileged uid cannot start %s: %w (fix: use a program outside private directories such as /root, e.g. /usr/bin/python3 or a venv in a world-readable place)", spec.Argv[0], err)
		}
		uid = nextUID()
		if err := chownTree(dir, uid); err != nil {
			return nil, err
		}
	}

	argv, err := buildArgv(spec, level, limits, dir, uid, caps)
	if err != nil {
		return nil, err
	}
	return execute(ctx, argv, spec, limits, level, dir, uid)
}

// writeFiles copies the spec's files into dir. Every name is checked first,
// so a bad one is refused before anything is written.
func writeFiles(dir string, files map[string][]byte) error {
	rels, err := checkFileNames(files)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(files) {
		p := filepath.Join(dir, rels[name])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		// O_EXCL: the directory is fresh, so an existing file means two
		// names collided in a way checkFileNames missed; never write twice.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		_, err = f.Write(files[name])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	return nil
}

// checkFileNames maps each name of files to its cleaned relative path,
// refusing names that leave the run directory, contain control characters
// (NUL, newlines), name the same file twice ("a.py" and "./a.py") or use a
// file as another file's directory ("a" and "a/b.py").
func checkFileNames(files map[string][]byte) (map[string]string, error) {
	rels := make(map[string]string, len(files))
	owner := make(map[string]string, len(files)) // cleaned path → name
	for _, name := range sortedKeys(files) {
		rel, err := cleanRel(name)
		if err != nil {
			return nil, err
		}
		if other, ok := owner[rel]; ok {
			return nil, fmt.Errorf("sandbox: file paths %q and %q name the same file", other, name)
		}
		owner[rel] = name
		rels[name] = rel
	}
	for rel, name := range owner {
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			if other, ok := owner[d]; ok {
				return nil, fmt.Errorf("sandbox: file path %q uses %q, which is a file, as a directory", name, other)
			}
		}
	}
	return rels, nil
}

func sortedKeys(files map[string][]byte) []string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cleanRel turns a slash-separated name into a clean relative path inside
// the run directory, or explains why it cannot be one.
func cleanRel(name string) (string, error) {
	c, err := safepath.Clean(name)
	if err != nil {
		return "", fmt.Errorf("sandbox: file path must be relative and stay inside the run directory: %w", err)
	}
	return filepath.FromSlash(c), nil
}

func chownTree(dir string, uid int) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err == nil {
		err = os.Chmod(dir, 0o700)
	}
	if err != nil {
		return fmt.Errorf("sandbox: hand the run directory to uid %d: %w", uid, err)
	}
	return nil
}

// removeAll deletes the run directory even when the program made parts of it
// unwritable (which stops a non-root r2c).
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// uidBase starts the range of uids handed to runs when r2c is root. It is far
// above the ranges Debian gives to users and subordinate ids (100000+65536n
// for the first few thousand users), so no file on the host belongs to it,
// and uidBase + pid_max<<8 (at most 2^22<<8) stays below 2^32-1.
const uidBase = 1_900_000_000

var uidCounter atomic.Uint32

// nextUID returns a uid no other live run uses: the pid keeps concurrent r2c
// processes apart, the counter up to 256 concurrent runs within one. A uid
// of its own gives each run its own RLIMIT_NPROC count and lets reap find
// exactly the run's processes.
func nextUID() int {
	n := int(uidCounter.Add(1) % 256)
	return uidBase + (os.Getpid()%(1<<22))<<8 + n
}

// buildArgv wraps spec.Argv: prlimit sets the rlimits (inherited by the
// isolation tool and everything below it), then bwrap or unshare.
func buildArgv(spec Spec, level Level, l Limits, dir string, uid int, caps Capabilities) ([]string, error) {
	if caps.Prlimit == "" {
		return nil, errors.New("sandbox: prlimit not found (fix: apt-get install util-linux)")
	}
	nproc := l.Processes
	if uid == 0 {
		// Not root: RLIMIT_NPROC counts every process of our uid.
		nproc += countProcs(os.Getuid())
	}
	cpu := int64(l.CPU.Round(time.Second) / time.Second)
	if cpu < 1 {
		cpu = 1
	}
	argv := []string{caps.Prlimit,
		"--as=" + strconv.FormatInt(l.MemoryBytes, 10),
		"--cpu=" + strconv.FormatInt(cpu, 10) + ":" + strconv.FormatInt(cpu+1, 10),
		"--fsize=" + strconv.FormatInt(l.FileSizeBytes, 10),
		"--nproc=" + strconv.Itoa(nproc),
		"--core=0",
		"--",
	}
	switch level {
	case LevelBubblewrap:
		argv = append(argv, bwrapArgs(caps, spec, l, dir)...)
	case LevelNamespaces:
		argv = append(argv, caps.Unshare, "--user", "--map-current-user", "--pid", "--fork", "--kill-child",
			"--mount-proc", "--net", "--ipc", "--uts", "--")
	}
	return append(argv, spec.Argv...), nil
}

func bwrapArgs(caps Capabilities, spec Spec, l Limits, dir string) []string {
	args := []string{caps.Bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"}
	for _, kv := range envList(spec, dir) {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	args = append(args, "--ro-bind", "/usr", "/usr")
	// On merged-/usr systems these are symlinks into /usr.
	for _, p := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
		case fi.Mode()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(p); err == nil {
				args = append(args, "--symlink", target, p)
			}
		case fi.IsDir():
			args = append(args, "--ro-bind", p, p)
		}
	}
	// bwrap's /dev and /tmp are tmpfs, held in the host's memory outside
	// RLIMIT_AS and unbounded by default: /dev is made read-only (device
	// nodes stay usable) and /dev/shm and /tmp get Limits.DiskBytes each.
	size := func() {
		if caps.BwrapTmpfsSize {
			args = append(args, "--size", strconv.FormatInt(l.DiskBytes, 10))
		}
	}
	args = append(args, "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev")
	size()
	args = append(args, "--tmpfs", "/dev/shm", "--remount-ro", "/dev")
	size()
	args = append(args, "--tmpfs", "/tmp")
	ro := append([]string(nil), spec.ReadOnly...)
	sort.Strings(ro)
	for _, p := range ro {
		if p == "" || p == "/usr" || strings.HasPrefix(p, "/usr/") {
			continue
		}
		args = append(args, "--ro-bind-try", p, p)
	}
	return append(args, "--bind", dir, dir, "--chdir", dir, "--")
}

// envList is the program's environment as sorted KEY=value pairs.
func envList(spec Spec, dir string) []string {
	env := AllowedEnv(dir)
	for k, v := range spec.Env {
		env[k] = v
	}
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// capture keeps the first limit bytes written to it and calls exceeded once
// when more arrive.
type capture struct {
	mu        sync.Mutex
	buf       []byte
	limit     int64
	truncated bool
	exceeded  func()
}

func (c *capture) readFrom(r io.Reader) {
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			over := false
			c.mu.Lock()
			switch room := c.limit - int64(len(c.buf)); {
			case c.truncated:
				// Already over the limit: discard until the kill lands.
			case int64(n) > room:
				c.buf = append(c.buf, chunk[:room]...)
				c.buf = append(c.buf, TruncationMarker...)
				c.truncated = true
				over = true
			default:
				c.buf = append(c.buf, chunk[:n]...)
			}
			c.mu.Unlock()
			if over {
				// Outside the lock; reading resumes (and discards) once the
				// run is killed.
				c.exceeded()
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *capture) bytes() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...), c.truncated
}

func execute(ctx context.Context, argv []string, spec Spec, l Limits, level Level, dir string, uid int) (*Result, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer devnull.Close()

	cmd := &exec.Cmd{
		Path:        argv[0],
		Args:        argv,
		Env:         envList(spec, dir),
		Dir:         dir,
		Stdin:       devnull,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: sysProcAttr(uid),
	}

	runCtx, cancel := context.WithTimeout(ctx, l.Wall)
	defer cancel()

	var (
		killOnce sync.Once
		killed   string
	)
	pgid := 0
	kill := func(reason string) {
		killOnce.Do(func() {
			killed = reason
			if pgid > 0 {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
			if uid != 0 {
				reap(uid)
			}
		})
	}
	// The readers start after pgid is set, so kill always has it.
	stdout := &capture{limit: l.OutputBytes, exceeded: func() { kill("output limit") }}
	stderr := &capture{limit: l.OutputBytes, exceeded: func() { kill("output limit") }}

	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("sandbox: start %s: %w", argv[0], err)
	}
	pgid = cmd.Process.Pid

	var readers conc.WaitGroup
	readers.Go(func() { stdout.readFrom(outR) })
	readers.Go(func() { stderr.readFrom(errR) })

	exited := make(chan struct{})
	var watchers conc.WaitGroup
	watchers.Go(func() {
		select {
		case <-runCtx.Done():
			if ctx.Err() != nil {
				kill("cancelled")
			} else {
				kill("wall time")
			}
		case <-exited:
		}
	})
	watchers.Go(func() { watchDisk(dir, l, exited, kill) })
	waitErr := cmd.Wait()
	close(exited)
	watchers.Wait()
	duration := time.Since(start)

	// The main process is gone; take down whatever it left behind (daemons
	// that called setsid, background jobs) before reading the last output.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if uid != 0 {
		reap(uid)
	}
	drained := make(chan struct{})
	var drainer conc.WaitGroup
	drainer.Go(func() { readers.Wait(); close(drained) })
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
		// A writer outside our reach (non-root, no PID namespace) still
		// holds the pipe; stop waiting for it.
		outR.Close()
		errR.Close()
	}
	drainer.Wait()
	outR.Close()
	errR.Close()

	killOnce.Do(func() {}) // waits for a kill in progress; none may start after this
	res := &Result{Level: level, UID: uid, Duration: duration}
	res.Stdout, res.Truncated = stdout.bytes()
	var errTrunc bool
	res.Stderr, errTrunc = stderr.bytes()
	res.Truncated = res.Truncated || errTrunc
	res.Killed = killed
	res.TimedOut = killed == "wall time"
	res.ExitCode = exitCode(cmd.ProcessState, waitErr)
	if killed != "" {
		res.ExitCode = -1
	}
	res.Collected = collect(dir, spec.Collect, l.FileSizeBytes)
	if uid != 0 && level < LevelBubblewrap {
		removeLeftovers(uid, dir)
	}
	if killed == "cancelled" {
		return res, fmt.Errorf("sandbox: run cancelled: %w", ctx.Err())
	}
	return res, nil
}

// diskCheckInterval is how often the run directory is measured.
const diskCheckInterval = 100 * time.Millisecond

// watchDisk measures the run directory until exited is closed and kills the
// run when its files exceed Limits.DiskBytes or Limits.Files: RLIMIT_FSIZE
// bounds one file, not how many a program writes.
func watchDisk(dir string, l Limits, exited <-chan struct{}, kill func(string)) {
	tick := time.NewTicker(diskCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return
		case <-tick.C:
			if reason := overDisk(dir, l); reason != "" {
				kill(reason)
				return
			}
		}
	}
}

// overDisk says which limit the run directory exceeds, or "". Space is
// counted in allocated blocks, so sparse files cost what they use.
func overDisk(dir string, l Limits) string {
	var bytes int64
	files := 0
	reason := ""
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		files++
		if files > l.Files {
			reason = "file count limit"
			return filepath.SkipAll
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				bytes += st.Blocks * 512
			} else {
				bytes += fi.Size()
			}
		}
		if bytes > l.DiskBytes {
			reason = "disk limit"
			return filepath.SkipAll
		}
		return nil
	})
	return reason
}

func exitCode(ps *os.ProcessState, waitErr error) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// collect reads back the named files without following links out of dir and
// without blocking on FIFOs the program may have planted.
func collect(dir string, names []string, maxBytes int64) map[string][]byte {
	out := map[string][]byte{}
	if len(names) == 0 {
		return out
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return out
	}
	defer root.Close()
	for _, name := range names {
		rel, err := cleanRel(name)
		if err != nil {
			continue
		}
		f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && fi.Mode().IsRegular() {
			if b, err := io.ReadAll(io.LimitReader(f, maxBytes)); err == nil {
				out[name] = b
			}
		}
		f.Close()
	}
	return out
}

// sharedWritable are the world-writable places a run below LevelBubblewrap
// can write to besides its run directory.
var sharedWritable = []string{os.TempDir(), "/tmp", "/var/tmp", "/dev/shm"}

// removeLeftovers deletes what a run left in the shared world-writable
// directories: everything there owned by its uid, which no other file on
// the host has (see nextUID). Only world-writable directories are searched,
// the only ones the run could create entries in, so the walk stays short.
// The run directory itself (kept, or removed by the caller) is left alone.
func removeLeftovers(uid int, runDir string) {
	runInfo, _ := os.Stat(runDir)
	seen := map[string]bool{}
	for _, top := range sharedWritable {
		if seen[top] {
			continue
		}
		seen[top] = true
		_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			if p == runDir || (runInfo != nil && os.SameFile(fi, runInfo)) {
				return filepath.SkipDir // also when reached through a symlinked TMPDIR
			}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && p != top {
				_ = removeAll(p)
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() && p != top && fi.Mode().Perm()&0o002 == 0 {
				return filepath.SkipDir // only the run's uid could not write here
			}
			return nil
		})
	}
}

// reap kills every process running as uid until none is left alive. Only the
// run's processes have that uid (see nextUID), so this catches daemons that
// left the process group and, at LevelNone, any PID namespace's absence.
func reap(uid int) {
	for range 200 {
		pids := procsOf(uid, false)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Millisecond)
	}
}

// countProcs is the number of live processes (zombies excluded) of uid.
func countProcs(uid int) int { return len(procsOf(uid, false)) }

// procsOf lists the pids whose real uid is uid, skipping zombies unless
// withZombies.
func procsOf(uid int, withZombies bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := strconv.Itoa(uid)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var state, realUID string
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "State:"); ok {
				state = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					realUID = f[0]
				}
				break
			}
		}
		if realUID != want || (!withZombies && (strings.HasPrefix(state, "Z") || strings.HasPrefix(state, "X"))) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}
