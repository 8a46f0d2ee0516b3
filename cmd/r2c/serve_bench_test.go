package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp/lsptest"
)

var sinkRSS float64

// BenchmarkServeIdleRSS measures the resident memory of a built `r2c
// serve` process that has initialized and checked one open Python file and
// then sits idle (target: < 60 MB).
func BenchmarkServeIdleRSS(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "r2c")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	pids := make(chan int, 1)
	e := lsptest.New(b, processServe(bin, pids), lsptest.Config{InitializationOptions: noProfileOptions})
	pid := <-pids
	e.CreateBuffer("m.py", strings.Repeat("def f(x):\n    return x + 1\n\n\n", 500))
	e.AwaitDiagnostics("m.py", "a publication", func([]protocol.Diagnostic) bool { return true })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rss, err := vmRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		sinkRSS = rss
	}
	b.StopTimer()
	b.ReportMetric(sinkRSS, "rss-MB")
}

// processServe runs the binary as an editor would, wired to the fake editor.
func processServe(bin string, pids chan<- int) lsptest.ServeFunc {
	return func(ctx context.Context, rwc io.ReadWriteCloser) int {
		cmd := exec.Command(bin, "serve")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+os.TempDir()+"/r2c-bench-none")
		if err := cmd.Start(); err != nil {
			pids <- -1
			return -1
		}
		pids <- cmd.Process.Pid
		go func() { _, _ = io.Copy(stdin, rwc); stdin.Close() }()
		_, _ = io.Copy(rwc, stdout)
		err := cmd.Wait()
		rwc.Close()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	}
}

// vmRSS reads a process's resident set size in MB from /proc.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
