// Command apiload is bench/api.sh's load generator: it sends N concurrent
// POST /v1/validate requests to a running `r2c api`, then runs the same
// validations through the CLI (`r2c validate`, one process each, N at a
// time), and prints throughput and latency percentiles of both, measured
// in the same run on the same machine.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8787", "the API's base URL")
	token := flag.String("token", os.Getenv("R2C_API_TOKEN"), "bearer token")
	bin := flag.String("r2c", "bin/r2c", "r2c binary for the CLI side")
	module := flag.String("module", "calc.py", "module to validate, relative to the API's root and to -root")
	root := flag.String("root", ".", "workspace folder (the API's --root) for the CLI side")
	n := flag.Int("c", 4, "concurrent requests")
	total := flag.Int("n", 40, "requests in all")
	flag.Parse()

	body := []byte(fmt.Sprintf(`{"path": %q}`, *module))
	api := measure(*n, *total, func() error {
		req, _ := http.NewRequest("POST", *base+"/v1/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+*token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"ok": true`)) {
			return fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
		}
		return nil
	})
	cli := measure(*n, *total, func() error {
		cmd := exec.CommandContext(context.Background(), *bin, "validate", "--root", *root, *module)
		cmd.Dir = *root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("r2c validate: %v: %.200s", err, out)
		}
		return nil
	})
	fmt.Printf("%-22s %8s %8s %8s %8s %8s\n", "validate x"+fmt.Sprint(*total)+" c="+fmt.Sprint(*n), "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
	api.print("api POST /v1/validate")
	cli.print("cli r2c validate")
	if cli.rate > 0 {
		fmt.Printf("api_throughput_vs_cli: %.2fx\n", api.rate/cli.rate)
	}
	if api.errors > 0 || cli.errors > 0 {
		os.Exit(1)
	}
}

type result struct {
	rate          float64
	p50, p95, p99 time.Duration
	errors        int
	firstErr      error
}

func (r result) print(name string) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	fmt.Printf("%-22s %8.2f %8s %8s %8s %8d\n", name, r.rate, ms(r.p50), ms(r.p95), ms(r.p99), r.errors)
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
}

// measure runs total calls of fn, c at a time, and summarises them.
func measure(c, total int, fn func() error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var res result
	jobs := make(chan struct{}, total)
	for i := 0; i < total; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t := time.Now()
				err := fn()
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.rate = float64(total) / time.Since(start).Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	res.p50, res.p95, res.p99 = pct(0.50), pct(0.95), pct(0.99)
	return res
}
