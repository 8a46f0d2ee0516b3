package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/runstore"
)

// TestAPIServesAndStopsOnSignal drives `r2c api` as main would: it listens
// on loopback, refuses requests without the token, validates a module
// through /v1/validate, and on cancellation (SIGTERM in main) shuts down
// cleanly with exit 0; `r2c stats` then shows the run it recorded.
func TestAPIServesAndStopsOnSignal(t *testing.T) {
	pythonWithPytest(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "calc.py"), []byte("def add(a, b):\n    return a + b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "test_calc.py"), []byte("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, strings.NewReader(""), io.Discard, pw, []string{"api", "--listen", "127.0.0.1:0", "--root", root, "--token-file", tokenFile})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("r2c api never said where it listens")
	}
	go io.Copy(io.Discard, pr)

	resp, err := http.Post(base+"/v1/validate", "application/json", strings.NewReader(`{"path":"calc.py"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/v1/validate", strings.NewReader(`{"path":"calc.py"}`))
	req.Header.Set("Authorization", "Bearer tok-123")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var vr struct {
		OK bool `json:"ok"`
	}
	err = json.NewDecoder(resp.Body).Decode(&vr)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !vr.OK {
		t.Fatalf("validate: %d ok=%v %v", resp.StatusCode, vr.OK, err)
	}

	cancel() // what SIGTERM does through main's signal context
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("r2c api exited %d after the signal", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("r2c api did not stop after the signal")
	}

	out, _, code := runCLI(t, "stats", "--root", root, "--json")
	var st runstore.Stats
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st.Runs != 1 || st.Passed != 1 || st.ByFrontDoor[0].Name != "api" {
		t.Fatalf("stats after the API run (exit %d): %s", code, out)
	}
}

func TestAPIRefusesAnOpenListenWithoutAToken(t *testing.T) {
	t.Setenv("R2C_API_TOKEN", "")
	_, errOut, code := runCLI(t, "api", "--listen", "0.0.0.0:0", "--root", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "R2C_API_TOKEN") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "api", "--max-body", "lots")
	if code != exitUsage || !strings.Contains(errOut, "8MiB") {
		t.Fatalf("bad --max-body: exit %d: %s", code, errOut)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"8MiB": 8 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "2MB": 2e6, "100": 100, "1.5MiB": 3 << 19} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "8XB", "0"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}
