package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/api"
)

type apiFlags struct {
	listen        string
	tokenFile     string
	root          string
	allow         []string
	maxConcurrent int
	queue         int
	maxBody       string
	runTimeout    time.Duration
	shutdownGrace time.Duration
}

func apiCommand() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "api [flags]",
		Short: "serve validate, implement and paper ingestion over authenticated HTTP",
		Long: "Serves r2c as an HTTP service for teams and CI runners: POST /v1/validate, /v1/implement and\n" +
			"/v1/papers, GET /v1/runs[/{id}[/events|/files/{path}]], DELETE /v1/runs/{id}, /healthz, /readyz,\n" +
			"/metrics (Prometheus), /dashboard and /openapi.json. Every /v1 route needs the bearer token from\n" +
			"R2C_API_TOKEN or --token-file; without one the server only listens on loopback.\n" +
			"SIGTERM or Ctrl-C stops taking work, lets running work finish for --shutdown-grace, cancels the rest\n" +
			"and records every run's final state in .r2c/runs.db (see r2c stats).",
		Example: "  r2c api\n" +
			"  R2C_API_TOKEN=$(openssl rand -hex 32) r2c api --listen 0.0.0.0:8787 --max-concurrent 4\n" +
			"  curl -H \"Authorization: Bearer $R2C_API_TOKEN\" -d '{\"path\":\"attn/attention.py\"}' http://127.0.0.1:8787/v1/validate",
		Args: noArgs("api"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAPI(cmd.Context(), streams(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8787", "host:port to listen on")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token (default: $R2C_API_TOKEN)")
	fl.StringVar(&f.root, "root", ".", "workspace root: r2c.toml, style profile, run records and run store")
	fl.StringSliceVar(&f.allow, "allow-root", nil, "folders whose files requests may name by path (default: --root)")
	fl.IntVar(&f.maxConcurrent, "max-concurrent", api.DefaultMaxConcurrent, "validations and implement runs in flight at once")
	fl.IntVar(&f.queue, "queue", api.DefaultQueue, "admitted requests that may wait for a slot; beyond it, 429")
	fl.StringVar(&f.maxBody, "max-body", "8MiB", "largest request body (e.g. 512KiB, 8MiB); beyond it, 413")
	fl.DurationVar(&f.runTimeout, "run-timeout", api.DefaultRunTimeout, "longest implement run")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 30*time.Second, "how long running work may finish after SIGTERM before it is cancelled")
	return cmd
}

func runAPI(ctx context.Context, s stdio, f apiFlags) error {
	token := strings.TrimSpace(os.Getenv("R2C_API_TOKEN"))
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return envf("api: --token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return envf("api: --token-file %s is empty", f.tokenFile)
		}
	}
	if err := api.CheckListen(f.listen, token); err != nil {
		return envf("api: %w", err)
	}
	maxBody, err := parseBytes(f.maxBody)
	if err != nil {
		return usagef("api: --max-body: %w", err)
	}
	if f.maxConcurrent < 1 || f.queue < 1 {
		return usagef("api: --max-concurrent and --queue must be at least 1")
	}
	root, err := filepath.Abs(f.root)
	if err != nil {
		return envf("api: --root: %w", err)
	}
	srv, err := api.New(api.Options{Root: root, Token: token, MaxConcurrent: f.maxConcurrent, Queue: f.queue,
		MaxBody: maxBody, AllowedRoots: f.allow, RunTimeout: f.runTimeout, Log: s.err})
	if err != nil {
		return envf("%w", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return envf("api: %w", err)
	}
	hs := srv.HTTPServer()
	auth := "bearer token required"
	if token == "" {
		auth = "no token (loopback only)"
	}
	fmt.Fprintf(s.err, "r2c: api listening on http://%s (%s; root %s; dashboard /dashboard)\n", ln.Addr(), auth, root)
	var wg conc.WaitGroup
	defer wg.Wait()
	served := make(chan error, 1)
	wg.Go(func() { served <- hs.Serve(ln) })
	select {
	case err := <-served:
		_ = srv.Shutdown(context.Background())
		return envf("api: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintf(s.err, "r2c: api shutting down: running work has %s to finish\n", f.shutdownGrace)
	grace, cancel := context.WithTimeout(context.Background(), f.shutdownGrace)
	defer cancel()
	// Stop taking requests and finish or cancel the runs in parallel: event
	// streams end when their runs do.
	runsErr := make(chan error, 1)
	wg.Go(func() { runsErr <- srv.Shutdown(grace) })
	httpErr := hs.Shutdown(grace)
	if err := <-runsErr; err != nil {
		fmt.Fprintf(s.err, "r2c: api: %v\n", err)
	}
	if httpErr != nil && !errors.Is(httpErr, context.DeadlineExceeded) {
		return envf("api: %w", httpErr)
	}
	_ = hs.Close()
	fmt.Fprintln(s.err, "r2c: api stopped; every run's final state is recorded")
	return nil
}

// parseBytes reads sizes such as 8MiB, 512KiB, 1GiB, 8MB or a plain number
// of bytes.
func parseBytes(v string) (int64, error) {
	v = strings.TrimSpace(v)
	units := []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("%q is not a size such as 8MiB", v)
			}
			return int64(n * float64(u.n)), nil
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 8MiB", v)
	}
	return n, nil
}
