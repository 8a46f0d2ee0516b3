package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/runstore"
	"github.com/r2c-ai/r2c/sandbox"
)

const testToken = "s3cret-token-for-tests"

// fixture is a running API server over real HTTP on 127.0.0.1, with a
// client that checks every request and response against openapi.json.
type fixture struct {
	t      *testing.T
	root   string
	srv    *Server
	http   *httptest.Server
	client *http.Client
}

type fixtureOpt func(*Options)

func newFixture(t *testing.T, endpoint string, opts ...fixtureOpt) *fixture {
	t.Helper()
	root := t.TempDir()
	toml := fmt.Sprintf("endpoint = %q\napi_key_env = \"R2C_TEST_NO_KEY\"\n", endpoint)
	if err := os.WriteFile(filepath.Join(root, "r2c.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Root: root, Token: testToken}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	f := &fixture{t: t, root: root, srv: s, http: hs}
	f.client = &http.Client{Transport: &conformance{t: t, router: openAPIRouter(t, hs.URL), next: http.DefaultTransport}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		hs.Close()
	})
	return f
}

func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

func openAPIRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid description: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// conformance validates each request and response against the OpenAPI
// description; a route or body that does not match fails the test.
type conformance struct {
	t      *testing.T
	router routers.Router
	next   http.RoundTripper
}

func (c *conformance) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil && req.Header.Get("X-Test-Bad-Request") != "" {
		return c.next.RoundTrip(req)
	}
	if err != nil {
		c.t.Errorf("%s %s is not in openapi.json: %v", req.Method, req.URL.Path, err)
		return c.next.RoundTrip(req)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	// Requests that are malformed on purpose are not checked.
	if req.Header.Get("X-Test-Bad-Request") == "" {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			c.t.Errorf("request %s %s does not match openapi.json: %v", req.Method, req.URL.Path, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(rb)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		c.t.Errorf("response %d to %s %s does not match openapi.json: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, rb)
	}
	return resp, nil
}

func (f *fixture) do(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// wantError checks status and the one error shape.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error body %s: want code %q and a message (%v)", body, code, err)
	}
}

func TestAuthAndErrorShape(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/v1")
	resp, body := f.do("GET", "/v1/runs", nil, "Authorization", "")
	wantError(t, resp, body, 401, codeUnauthorized)
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	resp, body = f.do("GET", "/v1/runs", nil, "Authorization", "Bearer "+testToken+"x")
	wantError(t, resp, body, 401, codeUnauthorized)
	resp, body = f.do("GET", "/v1/runs", nil, "Authorization", "Basic "+testToken)
	wantError(t, resp, body, 401, codeUnauthorized)
	resp, body = f.do("GET", "/dashboard", nil, "Authorization", "")
	wantError(t, resp, body, 401, codeUnauthorized)
	if resp, body = f.do("GET", "/v1/runs", nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"runs": []`) {
		t.Fatalf("with the token: %d %s", resp.StatusCode, body)
	}
	// Health, metrics and the description need no token.
	for _, p := range []string{"/healthz", "/openapi.json", "/metrics"} {
		if resp, _ := f.do("GET", p, nil, "Authorization", ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, body = f.do("GET", "/v1/nothing", nil, "X-Test-Bad-Request", "1")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, body)
	}
	// The model server is down: not ready, with the fix in the message.
	resp, body = f.do("GET", "/readyz", nil)
	wantError(t, resp, body, 503, codeUnavailable)
	if !strings.Contains(string(body), "endpoint") {
		t.Errorf("readyz does not say what to fix: %s", body)
	}
}

func TestCheckListen(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8787", "[::1]:8787", "localhost:1"} {
		if err := CheckListen(ok, ""); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:8787", ":8787", "192.168.1.4:80", "[::]:1"} {
		err := CheckListen(bad, "")
		if err == nil || !strings.Contains(err.Error(), "R2C_API_TOKEN") {
			t.Errorf("%s without a token: %v", bad, err)
		}
		if err := CheckListen(bad, "tok"); err != nil {
			t.Errorf("%s with a token refused: %v", bad, err)
		}
	}
}

func TestBadBodies(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/v1", func(o *Options) { o.MaxBody = 1 << 10 })
	big := `{"module":"m.py","files":{"m.py":"` + strings.Repeat("x", 4<<10) + `"}}`
	resp, body := f.do("POST", "/v1/validate", big, "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 413, codeTooLarge)
	resp, body = f.do("POST", "/v1/validate", `{"module": `, "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 400, codeBadRequest)
	resp, body = f.do("POST", "/v1/validate", `{"module":"m.py","files":{"m.py":""},"colour":"red"}`, "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 400, codeBadRequest)
	if !strings.Contains(string(body), "colour") {
		t.Errorf("unknown field not named: %s", body)
	}
	resp, body = f.do("POST", "/v1/validate", `{} {}`, "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 400, codeBadRequest)
	resp, body = f.do("POST", "/v1/validate", "PK\x03\x04", "Content-Type", "application/zip", "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 415, codeUnsupported)
	// Hostile names in an upload: refused, nothing written anywhere.
	for _, name := range []string{"../evil.py", "/etc/evil.py", "a/../../evil.py", `..\evil.py`, "a\x00.py"} {
		resp, body = f.do("POST", "/v1/validate", map[string]any{"module": name, "files": map[string]string{name: "x = 1\n"}}, "X-Test-Bad-Request", "1")
		wantError(t, resp, body, 400, codeBadRequest)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.root), "evil.py")); err == nil {
		t.Fatal("an upload was written outside the root")
	}
}

func needPytest(t *testing.T) {
	t.Helper()
	py, err := sandbox.FindPython("")
	if err != nil || !py.HasPytest {
		t.Skipf("needs python3 with pytest and numpy (Debian: python3-pytest python3-numpy): %v", err)
	}
}

func TestValidateFilesAndPaths(t *testing.T) {
	needPytest(t)
	f := newFixture(t, "http://127.0.0.1:1/v1")
	mod := "def add(a, b):\n    return a + b\n"
	tests := "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n\n\ndef test_neg():\n    assert add(-1, -1) == -3\n"
	resp, body := f.do("POST", "/v1/validate", ValidateRequest{Module: "calc.py", Files: map[string]string{"calc.py": mod, "test_calc.py": tests}})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var vr core.ValidateResult
	if err := json.Unmarshal(body, &vr); err != nil {
		t.Fatal(err)
	}
	if vr.OK || vr.Report.Tests.Passed != 1 || vr.Report.Tests.Failed != 1 || len(vr.Report.Failures) != 1 ||
		!strings.Contains(vr.Report.Failures[0].Test, "test_neg") {
		t.Fatalf("report: ok %v tests %+v failures %+v", vr.OK, vr.Report.Tests, vr.Report.Failures)
	}

	// The same module by path under the root, tests found beside it.
	if err := os.WriteFile(filepath.Join(f.root, "calc.py"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.root, "test_calc.py"), []byte(strings.Replace(tests, "-3", "-2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body = f.do("POST", "/v1/validate", ValidateRequest{Path: "calc.py"})
	if err := json.Unmarshal(body, &vr); err != nil || resp.StatusCode != 200 || !vr.OK || vr.Report.Tests.Passed != 2 || vr.Module != "calc.py" || strings.Contains(string(body), f.root) {
		t.Fatalf("by path: %d %s", resp.StatusCode, body)
	}

	// Paths that leave the root: "..", absolute, a symlink out.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.py"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.py"), filepath.Join(f.root, "link.py")); err != nil {
		t.Fatal(err)
	}
	for p, status := range map[string]int{"../secret.py": 400, filepath.Join(outside, "secret.py"): 400, "link.py": 403, "missing.py": 404} {
		resp, body = f.do("POST", "/v1/validate", ValidateRequest{Path: p})
		if resp.StatusCode != status {
			t.Errorf("path %q: %d, want %d: %s", p, resp.StatusCode, status, body)
		}
	}

	// Both validations are in the store and in the metrics.
	rows, err := f.srv.store.Runs(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Status != "failed" || rows[0].ErrorClass != "AssertionError" || rows[1].Status != "passed" ||
		rows[0].FrontDoor != runstore.FrontDoorAPI || len(rows[0].FailingTests) != 1 {
		t.Fatalf("store rows %+v", rows)
	}
	_, metrics := f.do("GET", "/metrics", nil)
	for _, want := range []string{
		`r2c_runs_total{front_door="api",kind="validate",outcome="failed"} 1`,
		`r2c_runs_total{front_door="api",kind="validate",outcome="passed"} 1`,
		`r2c_tests_total{result="passed"} 3`,
		`r2c_tests_total{result="failed"} 1`,
		`r2c_http_requests_total{code="200",route="/v1/validate"} 2`,
		`r2c_queue_depth 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct{ id, event, data string }

func readSSE(t *testing.T, url string, until func(sseEvent) bool) []sseEvent {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
				if until(cur) {
					return out
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

func startImplement(t *testing.T, f *fixture, paperPath string) Run {
	t.Helper()
	b, err := os.ReadFile(paperPath)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.do("POST", "/v1/implement", ImplementRequest{Paper: PaperInput{Name: "attention.md", Content: string(b)}, Section: "3.2"})
	if resp.StatusCode != 202 {
		t.Fatalf("implement: %d %s", resp.StatusCode, body)
	}
	var r Run
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestImplementStreamsEventsAndServesFiles(t *testing.T) {
	needPytest(t)
	model := llmtest.New(t)
	orchestratortest.Script(t, model)
	f := newFixture(t, model.URL())
	r := startImplement(t, f, orchestratortest.Paper(t))
	if r.Status != statusQueued && r.Status != statusRunning {
		t.Fatalf("new run is %s", r.Status)
	}
	events := readSSE(t, f.http.URL+r.Links.Events, func(e sseEvent) bool { return e.event == "end" })
	last := events[len(events)-1]
	if last.event != "end" {
		t.Fatalf("stream ended without an end event after %d events", len(events))
	}
	var final Run
	if err := json.Unmarshal([]byte(last.data), &final); err != nil {
		t.Fatal(err)
	}
	if final.Status != "passed" || final.Rounds != 2 || final.Tests.Passed != 5 || strings.Join(final.Files, ",") != "attention.py,test_attention.py" {
		t.Fatalf("final run %+v", final)
	}
	// The same events the CLI shows: each agent started and finished.
	seen := map[string]bool{}
	for _, e := range events {
		var ev struct{ Node, Kind string }
		_ = json.Unmarshal([]byte(e.data), &ev)
		seen[ev.Node+"/"+ev.Kind] = true
	}
	for _, want := range []string{"analyzer/started", "planner/finished", "implementer/finished", "validator/finished", "run/finished"} {
		if !seen[want] {
			t.Errorf("no %s event in the stream", want)
		}
	}
	// Resuming after an event id replays only what follows it.
	again := readSSE(t, f.http.URL+r.Links.Events+"?x=1", func(e sseEvent) bool { return e.event == "end" })
	if len(again) != len(events) {
		t.Errorf("a second reader saw %d events, the first %d", len(again), len(events))
	}

	resp, body := f.do("GET", r.Links.Files+"attention.py", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "np.sqrt(d_k)") {
		t.Fatalf("file: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("GET", r.Links.Files+"..%2f..%2fstate.json", nil, "X-Test-Bad-Request", "1")
	if resp.StatusCode != 400 && resp.StatusCode != 404 {
		t.Fatalf("traversal in a file name: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("GET", "/v1/runs/"+r.ID, nil)
	var got Run
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 || got.Status != "passed" || got.RecordID == "" {
		t.Fatalf("GET run: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("DELETE", "/v1/runs/"+r.ID, nil)
	wantError(t, resp, body, 409, codeConflict)
	rows, _ := f.srv.store.Runs(context.Background(), time.Time{})
	if len(rows) != 1 || rows[0].Status != "passed" || rows[0].Rounds != 2 || rows[0].TokensIn == 0 || rows[0].ModelTime <= 0 {
		t.Fatalf("store %+v", rows)
	}
}

// slowModel answers the Analyzer only after a long wait, so runs stay in
// flight until cancelled.
func slowModel(t *testing.T) *llmtest.Server {
	model := llmtest.New(t)
	model.On(llmtest.Contains(orchestratortest.AnalyzerPrompt), llmtest.Reply{Latency: time.Minute, Content: "{}"})
	return model
}

func waitStatus(t *testing.T, f *fixture, id, status string) Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := f.do("GET", "/v1/runs/"+id, nil)
		var r Run
		_ = json.Unmarshal(body, &r)
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, waited for %s", id, r.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQueueFullAndCancel(t *testing.T) {
	model := slowModel(t)
	f := newFixture(t, model.URL(), func(o *Options) { o.MaxConcurrent, o.Queue = 1, 1 })
	paperPath := orchestratortest.Paper(t)
	first := startImplement(t, f, paperPath)
	waitStatus(t, f, first.ID, statusRunning)
	second := startImplement(t, f, paperPath)
	if got := waitStatus(t, f, second.ID, statusQueued); got.Started != nil {
		t.Fatal("a queued run has a start time")
	}
	b, _ := os.ReadFile(paperPath)
	resp, body := f.do("POST", "/v1/implement", ImplementRequest{Paper: PaperInput{Name: "attention.md", Content: string(b)}, Section: "3.2"})
	wantError(t, resp, body, 429, codeQueueFull)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// A validation shares the slots: refused too.
	resp, body = f.do("POST", "/v1/validate", ValidateRequest{Module: "m.py", Files: map[string]string{"m.py": "x = 1\n"}})
	wantError(t, resp, body, 429, codeQueueFull)

	// Cancelling the running one starts the queued one; cancel that too.
	resp, body = f.do("DELETE", "/v1/runs/"+first.ID, nil)
	var c Run
	if err := json.Unmarshal(body, &c); err != nil || resp.StatusCode != 200 || c.Status != "cancelled" {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	waitStatus(t, f, second.ID, statusRunning)
	f.do("DELETE", "/v1/runs/"+second.ID, nil)
	waitStatus(t, f, second.ID, "cancelled")
	rows, _ := f.srv.store.Runs(context.Background(), time.Time{})
	if len(rows) != 2 || rows[0].Status != "cancelled" || rows[1].Status != "cancelled" {
		t.Fatalf("store %+v", rows)
	}
}

func TestConcurrentRuns(t *testing.T) {
	needPytest(t)
	model := llmtest.New(t)
	orchestratortest.Script(t, model)
	f := newFixture(t, model.URL(), func(o *Options) { o.MaxConcurrent = 2 })
	paperPath := orchestratortest.Paper(t)
	var wg sync.WaitGroup
	ids := make([]string, 2)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ids[i] = startImplement(t, f, paperPath).ID
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		readSSE(t, f.http.URL+"/v1/runs/"+id+"/events", func(e sseEvent) bool { return e.event == "end" })
		r := waitStatus(t, f, id, "passed")
		if len(r.Files) != 2 {
			t.Errorf("run %s files %v", id, r.Files)
		}
	}
}

func TestGracefulShutdownRecordsEveryRun(t *testing.T) {
	needPytest(t) // a run without pytest fails at once, before the shutdown
	model := slowModel(t)
	f := newFixture(t, model.URL())
	r := startImplement(t, f, orchestratortest.Paper(t))
	waitStatus(t, f, r.ID, statusRunning)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err == nil {
		t.Fatal("shutdown with a run still going reported nothing")
	}
	// New work is refused while shutting down.
	resp, body := f.do("POST", "/v1/validate", ValidateRequest{Module: "m.py", Files: map[string]string{"m.py": "x = 1\n"}})
	wantError(t, resp, body, 503, codeShuttingDown)
	st, err := runstore.Open(filepath.Join(f.root, ".r2c", runstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Runs(context.Background(), time.Time{})
	if err != nil || len(rows) != 1 || rows[0].ID != r.ID || rows[0].Status != "cancelled" {
		t.Fatalf("store after shutdown: %+v %v", rows, err)
	}
	b, err := os.ReadFile(filepath.Join(f.root, ".r2c", "api", "runs", r.ID, "state.json"))
	if err != nil || !strings.Contains(string(b), `"status": "cancelled"`) {
		t.Fatalf("state.json: %s %v", b, err)
	}
	// A restarted server still lists the run.
	s2, err := New(Options{Root: f.root, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Shutdown(context.Background())
	if runs := s2.runs.list(); len(runs) != 1 || runs[0].Status != "cancelled" {
		t.Fatalf("after restart: %+v", runs)
	}
}

func TestPapersReturnsTheSectionTree(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/v1")
	b, err := os.ReadFile(orchestratortest.Paper(t))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.do("POST", "/v1/papers", map[string]any{"paper": PaperInput{Name: "attention.md", Content: string(b)}})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var pr paper.Outline
	if err := json.Unmarshal(body, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Format != "markdown" || !strings.Contains(string(body), `"number": "3.2"`) {
		t.Fatalf("tree %s", body)
	}
	resp, body = f.do("POST", "/v1/papers", map[string]any{"paper": PaperInput{Name: "../x.md", Content: "# A"}})
	wantError(t, resp, body, 400, codeBadRequest)
	resp, body = f.do("POST", "/v1/papers", map[string]any{"paper": PaperInput{Path: "nope.pdf"}})
	wantError(t, resp, body, 404, codeNotFound)
}

func TestDashboardNumbersMatchTheStore(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/v1")
	now := time.Now().UTC()
	for i, st := range []string{"passed", "failed", "failed", "passed", "error"} {
		row := runstore.Row{ID: fmt.Sprint("r", i), FrontDoor: runstore.FrontDoorCLI, Kind: runstore.KindImplement, Status: st,
			Started: now.Add(-time.Duration(i) * time.Hour), Rounds: i + 1, TokensIn: 100 * i, FailedAgent: map[bool]string{true: "validator"}[st == "failed"],
			ErrorClass: map[bool]string{true: "AssertionError"}[st == "failed"], FailingTests: map[bool][]string{true: {"t.py::test_shape"}}[st == "failed"]}
		if err := f.srv.store.Append(context.Background(), row); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := f.do("GET", "/dashboard?since=7d", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	page := string(body)
	for _, want := range []string{`id="runs-total">5<`, `id="runs-passed">2<`, `id="runs-failed">2<`, `id="runs-errored">1<`,
		`id="success-rate">40.0%<`, `id="mean-rounds">3.0<`, `data-label="validator" data-value="2"`, `data-label="shape" data-value="2"`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the dashboard must be one self-contained page")
	}
	resp, body = f.do("GET", "/dashboard?since=forever", nil, "X-Test-Bad-Request", "1")
	wantError(t, resp, body, 400, codeBadRequest)
}

// TestSlowClientsAreCutOff: a client that trickles its headers is
// disconnected after the header timeout while other clients are served.
func TestSlowClientsAreCutOff(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/v1", func(o *Options) { o.HeaderTimeout = 300 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := f.srv.HTTPServer()
	go hs.Serve(ln)
	defer hs.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	// Meanwhile the server answers others.
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("another client: %v %v", resp, err)
	}
	resp.Body.Close()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	if took := time.Since(start); err != nil || took > 5*time.Second {
		t.Fatalf("slow client held the connection %s (%v)", took, err)
	}
}
