package paper

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var (
	arxivNewID = regexp.MustCompile(`^(\d{4}\.\d{4,5})(v\d+)?$`)
	arxivOldID = regexp.MustCompile(`^([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$`)
	arxivURL   = regexp.MustCompile(`^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|e-print|html)/(.+?)(?:\.pdf)?/?(?:[?#].*)?$`)
)

// ParseArxivID recognises an arXiv id ("2106.09685", "2106.09685v2",
// "arXiv:2106.09685", old-style "cs/0112017") or an arxiv.org abs/pdf URL
// and returns the id with its version when one was given.
func ParseArxivID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if m := arxivURL.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	if len(s) > 6 && strings.EqualFold(s[:6], "arxiv:") {
		s = s[6:]
	}
	s = strings.TrimRight(s, "/") // "2106.09685/", as copied from a URL
	if arxivNewID.MatchString(s) || arxivOldID.MatchString(s) {
		return s, true
	}
	return "", false
}

// ErrOffline is wrapped when arXiv cannot be reached.
var ErrOffline = errors.New("arXiv cannot be reached (offline?)")

// cacheDir is where arXiv downloads are kept: o.CacheDir, else
// $XDG_CACHE_HOME/r2c/arxiv (os.UserCacheDir).
func (o Options) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set XDG_CACHE_HOME or Options.CacheDir): %w", err)
	}
	return filepath.Join(base, "r2c", "arxiv"), nil
}

// loadArxiv downloads the PDF and, when arXiv has it, the LaTeX source of
// one paper into the cache (once), then parses them. The LaTeX source gives
// exact equations and the section tree; the PDF gives page numbers and the
// references. Without usable source the PDF alone is used.
func loadArxiv(ctx context.Context, id string, opts Options) (*Paper, error) {
	dir, err := opts.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("paper: arXiv %s: %w", id, err)
	}
	dir = filepath.Join(dir, strings.ReplaceAll(id, "/", "_"))
	pdfPath := filepath.Join(dir, "paper.pdf")
	srcPath := filepath.Join(dir, "source")
	var srcNote string
	// Each file is checked on its own: a run stopped between the two
	// downloads left the PDF without the source, which then was never
	// fetched.
	needPDF, needSrc := !fileExists(pdfPath), !fileExists(srcPath)
	if needPDF || needSrc {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("paper: arXiv %s: the cache folder cannot be created (set [paper] cache_dir to a writable folder): %w", id, err)
		}
	}
	if needPDF {
		if err := download(ctx, opts, "/pdf/"+id, pdfPath, isPDF); err != nil {
			return nil, fmt.Errorf("paper: arXiv %s: %w", id, err)
		}
	}
	if needSrc {
		// The source is optional: a failure leaves a note, not an error,
		// and an empty marker so it is not asked for on every load.
		if err := download(ctx, opts, "/e-print/"+id, srcPath, nil); err != nil {
			srcNote = "LaTeX source not downloaded: " + err.Error()
			_ = os.WriteFile(srcPath, nil, 0o644)
		}
	}
	data, err := readLimited(pdfPath, opts.maxBytes())
	if err != nil {
		return nil, fmt.Errorf("paper: arXiv %s: %w", id, err)
	}
	fromPDF, err := Parse(pdfPath, data, opts)
	if err != nil {
		return nil, err
	}
	fromPDF.Source = "arxiv:" + id
	if srcNote != "" {
		fromPDF.Notes = append(fromPDF.Notes, srcNote)
	}
	src, _ := os.ReadFile(srcPath)
	tex, err := latexFromEprint(src, opts.maxBytes())
	if err != nil || tex == "" {
		if err != nil {
			fromPDF.Notes = append(fromPDF.Notes, "LaTeX source not used: "+err.Error())
		}
		return fromPDF, nil
	}
	p := parseLaTeX(tex)
	p.Source, p.Pages = "arxiv:"+id, fromPDF.Pages
	copyPages(p, fromPDF)
	if len(p.References) == 0 {
		p.References = fromPDF.References
	}
	if p.Title == "" {
		p.Title = fromPDF.Title
	}
	return p, nil
}

// copyPages gives LaTeX sections the page of the same section in the PDF,
// matched by number, else by title.
func copyPages(dst, src *Paper) {
	byNum, byTitle := map[string]int{}, map[string]int{}
	src.Walk(func(s *Section) {
		if s.Number != "" {
			byNum[s.Number] = s.Page
		}
		byTitle[normTitle(s.Title)] = s.Page
	})
	dst.Walk(func(s *Section) {
		if pg, ok := byNum[s.Number]; ok && s.Number != "" {
			s.Page = pg
		} else if pg, ok := byTitle[normTitle(s.Title)]; ok {
			s.Page = pg
		}
	})
}

// isPDF checks that a download is a PDF: arXiv answers some requests (rate
// limits, withdrawn papers) with an HTML page and status 200, which must
// not be cached as the paper.
func isPDF(head []byte) error {
	if !bytes.Contains(head, []byte("%PDF-")) {
		return fmt.Errorf("the answer is not a PDF (it starts %q); try again later or pass a local PDF", string(head[:min(len(head), 40)]))
	}
	return nil
}

// download fetches base+urlPath into dest atomically; check, when set,
// vets the first KiB before the file is put in place.
func download(ctx context.Context, opts Options, urlPath, dest string, check func(head []byte) error) error {
	base := strings.TrimRight(opts.ArxivBaseURL, "/")
	if base == "" {
		base = "https://arxiv.org"
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	url := base + urlPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "r2c (https://github.com/r2c-ai/r2c)")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: no answer within %s: %w", url, timeout, ctx.Err())
		}
		return fmt.Errorf("download %s: %w: %v; pass a local PDF instead", url, ErrOffline, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("download %s: arXiv has no such paper (404)", url)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return fmt.Errorf("the cache folder is not writable (set [paper] cache_dir to a writable folder): %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, opts.maxBytes()+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: no answer within %s: %w", url, timeout, ctx.Err())
		}
		return fmt.Errorf("download %s: %w", url, err)
	}
	if n > opts.maxBytes() {
		return fmt.Errorf("download %s: over the %d MiB limit", url, opts.maxBytes()>>20)
	}
	if check != nil {
		head, err := readHead(tmp.Name(), 1024)
		if err != nil {
			return err
		}
		if err := check(head); err != nil {
			return fmt.Errorf("download %s: %w", url, err)
		}
	}
	return os.Rename(tmp.Name(), dest)
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, n)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return head[:k], nil
}

// latexFromEprint unpacks arXiv's e-print: a gzipped tar of the sources,
// a gzipped single .tex file, or (for PDF-only submissions) a PDF, which
// yields no LaTeX. In a tar, the file with \documentclass is the main file
// and its \input/\include files are inlined from the archive.
func latexFromEprint(data []byte, limit int64) (string, error) {
	if len(data) == 0 || bytes.HasPrefix(data, []byte("%PDF")) {
		return "", nil
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("e-print: %w", err)
		}
		unz, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return "", fmt.Errorf("e-print: %w", err)
		}
		if int64(len(unz)) > limit {
			return "", fmt.Errorf("e-print: over the %d MiB limit", limit>>20)
		}
		data = unz
	}
	if bytes.HasPrefix(data, []byte("%PDF")) {
		return "", nil
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) && len(files) > 0 {
				break
			}
			if len(files) == 0 { // not a tar: a single .tex file
				if bytes.Contains(data, []byte(`\begin{document}`)) {
					return string(data), nil
				}
				return "", errors.New("e-print is neither a tar archive nor a LaTeX file")
			}
			break
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".tex") {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, limit))
		if err != nil {
			return "", fmt.Errorf("e-print: %w", err)
		}
		files[path.Clean(h.Name)] = string(b)
	}
	var mains []string
	for name, body := range files {
		if strings.Contains(body, `\documentclass`) && strings.Contains(body, `\begin{document}`) {
			mains = append(mains, name)
		}
	}
	if len(mains) == 0 {
		return "", errors.New("e-print has no main .tex file (none with \\documentclass)")
	}
	sort.Strings(mains)
	return inlineInputs(files[mains[0]], path.Dir(mains[0]), files, 0), nil
}

var inputRE = regexp.MustCompile(`\\(?:input|include)\s*\{([^}]+)\}`)

func inlineInputs(src, dir string, files map[string]string, depth int) string {
	if depth > 8 {
		return src
	}
	return inputRE.ReplaceAllStringFunc(src, func(m string) string {
		name := strings.TrimSpace(inputRE.FindStringSubmatch(m)[1])
		for _, cand := range []string{name, name + ".tex"} {
			if body, ok := files[path.Clean(path.Join(dir, cand))]; ok {
				return inlineInputs(stripLaTeXComments(body), dir, files, depth+1)
			}
		}
		return m // left for parseLaTeX to note
	})
}
