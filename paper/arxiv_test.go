package paper

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseArxivID(t *testing.T) {
	cases := map[string]string{
		"2106.09685":                              "2106.09685",
		"2106.09685v2":                            "2106.09685v2",
		"arXiv:1706.03762":                        "1706.03762",
		"https://arxiv.org/abs/2106.09685":        "2106.09685",
		"https://arxiv.org/pdf/2106.09685v1":      "2106.09685v1",
		"http://arxiv.org/pdf/2106.09685.pdf":     "2106.09685",
		"arxiv.org/abs/1706.03762?context=cs":     "1706.03762",
		"https://export.arxiv.org/abs/cs/0112017": "cs/0112017",
		"hep-th/9901001v3":                        "hep-th/9901001v3",
		"https://arxiv.org/abs/hep-th/9901001/":   "hep-th/9901001",
		"arxiv.org/pdf/hep-th/9901001v2.pdf":      "hep-th/9901001v2",
		"arXiv:math.AG/0101001v1":                 "math.AG/0101001v1",
		"https://arxiv.org/abs/2106.09685v2/":     "2106.09685v2",
		"2106.09685/":                             "2106.09685",
		"hep-th/9901001/":                         "hep-th/9901001",
		"0704.0001":                               "0704.0001",
	}
	for in, want := range cases {
		if got, ok := ParseArxivID(in); !ok || got != want {
			t.Errorf("ParseArxivID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"paper.pdf", "2106.096", "https://example.com/abs/2106.09685", "12345.67890123", "2106.09685v", "https://arxiv.org/abs/../../etc/passwd", "hep-th/990100", "/"} {
		if got, ok := ParseArxivID(in); ok {
			t.Errorf("ParseArxivID(%q) = %q, want no match", in, got)
		}
	}
}

// fakeArxiv serves one paper's PDF and e-print (a gzipped tar whose main
// file \input's another) and counts requests.
type fakeArxiv struct {
	mu   sync.Mutex
	hits map[string]int
}

func (f *fakeArxiv) count(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[p]
}

func newFakeArxiv(t *testing.T, pdfBytes []byte, eprint []byte) (*httptest.Server, *fakeArxiv) {
	f := &fakeArxiv{hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.URL.Path]++
		f.mu.Unlock()
		switch r.URL.Path {
		case "/pdf/2106.09685":
			w.Write(pdfBytes)
		case "/e-print/2106.09685":
			if eprint == nil {
				http.NotFound(w, r)
				return
			}
			w.Write(eprint)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, f
}

// eprintOf splits onecol.tex at its Experiments section into main.tex and
// an \input'ed experiments.tex, tars and gzips them as arXiv does.
func eprintOf(t *testing.T) []byte {
	src, err := os.ReadFile("testdata/onecol.tex")
	if err != nil {
		t.Fatal(err)
	}
	head, tail, ok := strings.Cut(string(src), `\section{Experiments}`)
	if !ok {
		t.Fatal("fixture changed: no Experiments section")
	}
	body, rest, _ := strings.Cut(tail, `\section{Conclusion}`)
	files := map[string]string{
		"main.tex":                 head + "\\input{sections/experiments}\n\\section{Conclusion}" + rest,
		"sections/experiments.tex": `\section{Experiments}` + body,
		"figures/plot.png":         "not latex",
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestArxivDownloadOnceWithSource(t *testing.T) {
	pdfBytes, err := os.ReadFile(fixturePDF(t, "onecol"))
	if err != nil {
		t.Fatal(err)
	}
	srv, fake := newFakeArxiv(t, pdfBytes, eprintOf(t))
	opts := Options{CacheDir: t.TempDir(), ArxivBaseURL: srv.URL}
	p, err := Load(context.Background(), "https://arxiv.org/abs/2106.09685", opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != "arxiv:2106.09685" || p.Format != "latex" || p.Pages != 3 {
		t.Errorf("source %q format %q pages %d", p.Source, p.Format, p.Pages)
	}
	// The \input'ed file was inlined from the archive: its table is there.
	exp, err := p.Find("Experiments")
	if err != nil || len(exp.Tables) != 1 {
		t.Fatalf("experiments from the inlined file: %+v %v", exp, err)
	}
	if len(p.Notes) != 0 {
		t.Errorf("notes %q", p.Notes)
	}
	// Exact LaTeX equations, page numbers from the PDF.
	s, _ := p.Find("2.1")
	if !strings.Contains(s.Equations[0].Text, `\sqrt{d_k}`) || s.Page != 1 {
		t.Errorf("2.1: page %d equations %+v", s.Page, s.Equations)
	}
	if w, _ := p.Find("3.2.1"); w.Page != 2 {
		t.Errorf("3.2.1 page %d, want 2 (as the PDF says)", w.Page)
	}
	if len(p.References) != 3 {
		t.Errorf("references %d", len(p.References))
	}
	// Second load: from the cache, no request.
	if _, err := Load(context.Background(), "2106.09685", opts); err != nil {
		t.Fatal(err)
	}
	if fake.count("/pdf/2106.09685") != 1 || fake.count("/e-print/2106.09685") != 1 {
		t.Errorf("downloads: pdf %d, e-print %d; want 1 each", fake.count("/pdf/2106.09685"), fake.count("/e-print/2106.09685"))
	}
	if _, err := os.Stat(filepath.Join(opts.CacheDir, "2106.09685", "paper.pdf")); err != nil {
		t.Errorf("cache layout: %v", err)
	}
}

func TestArxivPDFOnly(t *testing.T) {
	pdfBytes, err := os.ReadFile(fixturePDF(t, "onecol"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newFakeArxiv(t, pdfBytes, nil)
	p, err := Load(context.Background(), "2106.09685", Options{CacheDir: t.TempDir(), ArxivBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "pdf" || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "404") {
		t.Errorf("format %q notes %q", p.Format, p.Notes)
	}
}

func TestArxivErrors(t *testing.T) {
	srv, _ := newFakeArxiv(t, nil, nil)
	_, err := Load(context.Background(), "1706.03762", Options{CacheDir: t.TempDir(), ArxivBaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "no such paper") {
		t.Errorf("404: %v", err)
	}

	// Offline: nothing listens at the address.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, err = Load(context.Background(), "1706.03762", Options{CacheDir: t.TempDir(), ArxivBaseURL: url})
	if !errors.Is(err, ErrOffline) {
		t.Errorf("offline: %v", err)
	}

	// A server that never answers hits the timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	_, err = Load(context.Background(), "1706.03762", Options{CacheDir: t.TempDir(), ArxivBaseURL: slow.URL, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("timeout: %v", err)
	}
}

// TestArxivDefaultCacheDir: with no CacheDir, downloads go under
// $XDG_CACHE_HOME/r2c/arxiv.
func TestArxivDefaultCacheDir(t *testing.T) {
	pdfBytes, err := os.ReadFile(fixturePDF(t, "twocol"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newFakeArxiv(t, pdfBytes, nil)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	if _, err := Load(context.Background(), "arXiv:2106.09685", Options{ArxivBaseURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(cache, "r2c", "arxiv", "2106.09685", "paper.pdf"))
	if err != nil || !bytes.Equal(got, pdfBytes) {
		t.Fatalf("cached PDF: %v", err)
	}
}

// TestArxivCacheRecovers: a run stopped after the PDF was cached but
// before the source was fetched used to leave the paper without its LaTeX
// for good; a server answering with an HTML page must not be cached as the
// PDF; an unusable cache folder is a clear error.
func TestArxivCacheRecovers(t *testing.T) {
	pdfBytes, err := os.ReadFile(fixturePDF(t, "onecol"))
	if err != nil {
		t.Fatal(err)
	}
	srv, fake := newFakeArxiv(t, pdfBytes, eprintOf(t))
	cache := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cache, "2106.09685"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "2106.09685", "paper.pdf"), pdfBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), "2106.09685", Options{CacheDir: cache, ArxivBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "latex" || fake.count("/e-print/2106.09685") != 1 || fake.count("/pdf/2106.09685") != 0 {
		t.Errorf("format %q; downloads: pdf %d, e-print %d; want the e-print only", p.Format, fake.count("/pdf/2106.09685"), fake.count("/e-print/2106.09685"))
	}

	html := []byte("<!DOCTYPE html><html><body>Rate exceeded.</body></html>")
	bad, _ := newFakeArxiv(t, html, nil)
	cache = t.TempDir()
	_, err = Load(context.Background(), "2106.09685", Options{CacheDir: cache, ArxivBaseURL: bad.URL})
	if err == nil || !strings.Contains(err.Error(), "not a PDF") {
		t.Fatalf("HTML answer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "2106.09685", "paper.pdf")); !os.IsNotExist(err) {
		t.Fatalf("the HTML answer was cached as the PDF (%v)", err)
	}
	if p, err := Load(context.Background(), "2106.09685", Options{CacheDir: cache, ArxivBaseURL: srv.URL}); err != nil || p.Pages != 3 {
		t.Fatalf("after a good answer: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "2106.09685"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".download-") {
			t.Errorf("temporary file %s left in the cache", e.Name())
		}
	}

	// A cache folder under a regular file cannot be created, even by root.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), "2106.09685", Options{CacheDir: filepath.Join(file, "cache"), ArxivBaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "cache_dir") {
		t.Errorf("unusable cache: %v", err)
	}
}
