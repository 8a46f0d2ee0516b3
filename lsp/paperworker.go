package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/r2c-ai/r2c/paper"
)

// Papers are parsed in a child process: a hostile PDF (nesting that
// exhausts the stack, a decompression bomb, a content stream that never
// ends) must not stall or crash the editor's server. The child is this very
// binary — r2c, or a test binary — started again with paperWorkerEnv set;
// the init function below turns such a process into the worker before main
// (or TestMain) runs, so no command line or flag of the CLI is involved.
// The worker reads one request as JSON on stdin, limits itself (address
// space and CPU time through rlimits, the Go heap through its memory
// limit), parses, and writes one answer as JSON on stdout. The server adds
// a wall-clock limit and a resident-memory watchdog, which also hold in
// race-detector builds (whose shadow memory rules out RLIMIT_DATA).
const paperWorkerEnv = "R2C_PAPER_WORKER"

func init() {
	if os.Getenv(paperWorkerEnv) == "1" {
		os.Exit(paperWorkerMain(os.Stdin, os.Stdout))
	}
}

// Default limits for one paper; Options.PaperLimits overrides them.
const (
	defaultPaperTimeout = 90 * time.Second // arXiv downloads included
	defaultPaperMemory  = 1 << 30
)

// PaperLimits bounds the child process that parses one paper.
type PaperLimits struct {
	// Timeout is the wall-clock limit; 0 means 90 seconds.
	Timeout time.Duration
	// Memory is the resident-memory limit in bytes; 0 means 1 GiB.
	Memory int64
}

func (l PaperLimits) withDefaults() PaperLimits {
	if l.Timeout <= 0 {
		l.Timeout = defaultPaperTimeout
	}
	if l.Memory <= 0 {
		l.Memory = defaultPaperMemory
	}
	return l
}

// paperJob is the worker's request.
type paperJob struct {
	Source     string `json:"source"`
	MaxBytes   int64  `json:"max_bytes,omitempty"`
	MaxPages   int    `json:"max_pages,omitempty"`
	CacheDir   string `json:"cache_dir,omitempty"`
	Memory     int64  `json:"memory"`
	CPUSeconds uint64 `json:"cpu_seconds"`
	HardData   bool   `json:"hard_data"` // set RLIMIT_DATA (not in race builds)
}

// paperAnswer is the worker's reply.
type paperAnswer struct {
	Paper *paper.Outline `json:"paper,omitempty"`
	Error string         `json:"error,omitempty"`
}

func paperWorkerMain(in io.Reader, out io.Writer) int {
	var job paperJob
	answer := func(a paperAnswer) int {
		if err := json.NewEncoder(out).Encode(a); err != nil {
			return 1
		}
		return 0
	}
	if err := json.NewDecoder(in).Decode(&job); err != nil {
		return answer(paperAnswer{Error: fmt.Sprintf("paper worker: bad request: %v", err)})
	}
	if job.Memory > 0 {
		// The heap limit makes the collector work hard before the
		// watchdog or the rlimit has to step in.
		debug.SetMemoryLimit(job.Memory * 3 / 4)
		if job.HardData {
			// Writable private memory (the heap; not the runtime's
			// PROT_NONE address-space reservations, which RLIMIT_AS would
			// count), with room for the runtime itself.
			data := uint64(job.Memory) + 256<<20
			_ = syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: data, Max: data})
		}
	}
	if job.CPUSeconds > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: job.CPUSeconds, Max: job.CPUSeconds + 1})
	}
	p, err := paper.Load(context.Background(), job.Source, paper.Options{MaxBytes: job.MaxBytes, MaxPages: job.MaxPages, CacheDir: job.CacheDir})
	if err != nil {
		return answer(paperAnswer{Error: err.Error()})
	}
	return answer(paperAnswer{Paper: p.Outline()})
}

// errPaperLimit marks a paper whose parsing was stopped by a limit.
var errPaperLimit = errors.New("paper parsing stopped")

// parsePaperIsolated parses source in a child process under limits and
// returns its outline. The error names what went wrong and the fix.
func parsePaperIsolated(ctx context.Context, source string, opts paper.Options, limits PaperLimits) (*paper.Outline, error) {
	limits = limits.withDefaults()
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("paper worker: %w", err)
	}
	job := paperJob{
		Source: source, MaxBytes: opts.MaxBytes, MaxPages: opts.MaxPages, CacheDir: opts.CacheDir,
		Memory: limits.Memory, CPUSeconds: uint64(limits.Timeout/time.Second) + 1, HardData: !raceEnabled,
	}
	req, _ := json.Marshal(job)
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), paperWorkerEnv+"=1")
	cmd.Stdin = bytes.NewReader(req)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("paper worker: start %s: %w", exe, err)
	}
	var overMemory atomic.Int64
	done := make(chan struct{})
	go watchMemory(cmd.Process, limits.Memory, &overMemory, done)
	waitErr := cmd.Wait()
	close(done)

	name := source
	if rss := overMemory.Load(); rss > 0 {
		return nil, fmt.Errorf("%w: %s needed more than %d MiB of memory (it had %d MiB when stopped); the PDF is likely a decompression bomb or broken: try the paper's LaTeX source or another copy", errPaperLimit, name, limits.Memory>>20, rss>>20)
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: %s took longer than %s to parse; the PDF is likely hostile or broken (an endless content stream): try the paper's LaTeX source or another copy", errPaperLimit, name, limits.Timeout)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var ans paperAnswer
	if err := json.Unmarshal(stdout.Bytes(), &ans); err != nil || (ans.Paper == nil && ans.Error == "") {
		return nil, fmt.Errorf("%w: the parser crashed on %s (%s); the PDF is likely hostile or broken: try the paper's LaTeX source or another copy", errPaperLimit, name, crashReason(waitErr, stderr.String()))
	}
	if ans.Error != "" {
		return nil, errors.New(ans.Error)
	}
	return ans.Paper, nil
}

// crashReason says in a few words why the worker died.
func crashReason(waitErr error, stderr string) string {
	switch {
	case strings.Contains(stderr, "stack exceeds"), strings.Contains(stderr, "stack overflow"):
		return "it nests too deeply"
	case strings.Contains(stderr, "out of memory"), strings.Contains(stderr, "cannot allocate memory"):
		return "it ran out of memory"
	case strings.Contains(stderr, "panic:"), strings.Contains(stderr, "fatal error:"):
		if i := strings.Index(stderr, "panic:"); i >= 0 {
			return firstLine(stderr[i:])
		}
		return firstLine(stderr[strings.Index(stderr, "fatal error:"):])
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ws.Signal() == syscall.SIGXCPU || ws.Signal() == syscall.SIGKILL {
				return "it used up its CPU time"
			}
			return "killed by " + ws.Signal().String()
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	if waitErr != nil {
		return waitErr.Error()
	}
	return "no answer"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// watchMemory kills p when its resident memory passes limit, recording
// what it had in over.
func watchMemory(p *os.Process, limit int64, over *atomic.Int64, done <-chan struct{}) {
	page := int64(os.Getpagesize())
	statm := "/proc/" + strconv.Itoa(p.Pid) + "/statm"
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		b, err := os.ReadFile(statm)
		if err != nil {
			continue // not on Linux, or already gone: the other limits hold
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		if rss := pages * page; rss > limit {
			over.Store(rss)
			_ = p.Kill()
			return
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
