package api

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/runstore"
)

// chromium finds Debian's Chromium; CI installs it (package chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("needs Chromium for the dashboard test (Debian: apt-get install chromium)")
	return ""
}

func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1500"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}

// TestDashboardInChromium renders /dashboard in headless Chromium: the
// numbers of the rendered page are the store's, and a screenshot is kept
// (in R2C_ARTIFACTS when set, for CI).
func TestDashboardInChromium(t *testing.T) {
	bin := chromium(t)
	f := newFixture(t, "http://127.0.0.1:1/v1", func(o *Options) { o.Token = "" }) // loopback, no token: the browser sends none
	now := time.Now().UTC()
	statuses := []string{"passed", "passed", "failed", "passed", "cancelled", "failed", "passed", "error"}
	for i, st := range statuses {
		row := runstore.Row{ID: fmt.Sprintf("20261203-1%05d-run%d", i, i), FrontDoor: []string{"cli", "lsp", "api", "eval"}[i%4],
			Kind: runstore.KindImplement, Status: st, Started: now.Add(-time.Duration(i*20) * time.Hour), Rounds: 1 + i%3,
			TokensIn: 1000 + 100*i, TokensOut: 300, StyleScore: 80 + float64(i), SandboxTime: time.Duration(i) * time.Second}
		if st == "failed" {
			row.FailedAgent, row.ErrorClass, row.FailingTests = "validator", "AssertionError", []string{"test_x.py::test_masking"}
		}
		if err := f.srv.store.Append(context.Background(), row); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := f.srv.store.Runs(context.Background(), now.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := runstore.Summarise(rows, now)
	url := f.http.URL + "/dashboard?since=30d"
	dom := string(headless(t, bin, "--dump-dom", url))
	for id, v := range map[string]string{"runs-total": fmt.Sprint(want.Runs), "runs-passed": fmt.Sprint(want.Passed),
		"runs-failed": fmt.Sprint(want.Failed), "success-rate": fmt.Sprintf("%.1f%%", 100*want.SuccessRate)} {
		m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(dom)
		if m == nil || m[1] != v {
			t.Errorf("rendered %s = %v, store says %s", id, m, v)
		}
	}
	if n := strings.Count(dom, `class="bar"`); n < len(want.PerDay) {
		t.Errorf("rendered %d bars, want at least one per day (%d)", n, len(want.PerDay))
	}
	dir := os.Getenv("R2C_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "dashboard.png")
	headless(t, bin, "--screenshot="+shot, "--hide-scrollbars", url)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1000 {
		t.Fatalf("screenshot is %v", b)
	}
	// A blank page would be one colour: the charts draw blue bars.
	blue := 0
	for y := 0; y < img.Bounds().Dy(); y += 4 {
		for x := 0; x < img.Bounds().Dx(); x += 4 {
			r, g, b, _ := img.At(x, y).RGBA()
			if b>>8 > 200 && r>>8 < 90 && g>>8 > 100 && g>>8 < 160 {
				blue++
			}
		}
	}
	if blue < 50 {
		t.Errorf("the screenshot shows no chart bars (%d blue samples)", blue)
	}
	t.Logf("dashboard screenshot: %s", shot)
}
