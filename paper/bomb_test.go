package paper

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/paper/papertest"
)

// bombPDF builds a PDF whose pages draw Form XObjects whose content
// streams each decompress to spaceMiB MiB of spaces (about 100 KB
// compressed) followed by "/X Do", which draws the next form; nested is
// how many forms are chained. Each of the pages draws the first form
// draws times.
func bombPDF(pages, draws, nested, spaceMiB int) []byte {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range spaceMiB {
		zw.Write(chunk)
	}
	zw.Write([]byte("\n/X Do\n"))
	zw.Close()

	var objs []string
	add := func(s string) int { objs = append(objs, s); return len(objs) }
	catalog := add("")
	pagesObj := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	firstForm := len(objs) + 2*pages + 1
	for range pages {
		content := "BT /F1 12 Tf 72 700 Td (Hello) Tj ET\n" + strings.Repeat("/X Do\n", draws)
		c := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		p := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> /XObject << /X %d 0 R >> >> /Contents %d 0 R >>", pagesObj, font, firstForm, c))
		kids = append(kids, fmt.Sprintf("%d 0 R", p))
	}
	for i := range nested {
		res := "<< >>"
		if i+1 < nested {
			res = fmt.Sprintf("<< /XObject << /X %d 0 R >> >>", firstForm+i+1)
		}
		add(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources %s /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", res, z.Len(), z.String()))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages)

	return papertest.PDF(objs)
}

// tinyPagesPDF has n pages of one word each: "w1", "w2", ...
func tinyPagesPDF(n int) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	var kids []string
	for i := range n {
		content := fmt.Sprintf("BT /F1 12 Tf 72 700 Td (w%d) Tj ET", i+1)
		objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", len(objs)))
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objs)))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	return papertest.PDF(objs)
}

// TestThousandsOfTinyPages: MaxPages refuses a long PDF before reading
// its pages, and when raised, every page is read (poppler's pdfinfo
// counts them independently).
func TestThousandsOfTinyPages(t *testing.T) {
	data := tinyPagesPDF(3000)
	if _, err := Parse("long.pdf", data, Options{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1000 pages") {
		t.Fatalf("default MaxPages: err = %v, want ErrTooLarge naming 1000 pages", err)
	}
	p, err := Parse("long.pdf", data, Options{MaxPages: 5000})
	if err != nil {
		t.Fatal(err)
	}
	want := 3000
	if _, err := exec.LookPath("pdfinfo"); err == nil {
		path := t.TempDir() + "/long.pdf"
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdfinfo", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if n, _ := fmt.Sscanf(l, "Pages: %d", &want); n == 1 {
				break
			}
		}
	}
	if p.Pages != want {
		t.Errorf("read %d pages, pdfinfo counts %d", p.Pages, want)
	}
}

// TestPageTreeLoops: page trees whose Kids lead back up, or that share
// subtrees so that the tree unfolds into 2^40 leaves, are refused, not
// walked forever.
func TestPageTreeLoops(t *testing.T) {
	page := "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>"
	content := "<< /Length 0 >>\nstream\n\nendstream"
	cycle := papertest.PDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>", page, content})
	parentLoop := papertest.PDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 2 0 R >>", "<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>", content})
	// Objects 2..41 are Pages nodes each listing the next one twice.
	shared := []string{"<< /Type /Catalog /Pages 2 0 R >>"}
	for i := 2; i <= 41; i++ {
		shared = append(shared, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] >>", i+1, i+1))
	}
	shared = append(shared, strings.Replace(page, "/Contents 4 0 R", fmt.Sprintf("/Contents %d 0 R", len(shared)+2), 1), content)
	for name, data := range map[string][]byte{"kids cycle": cycle, "shared subtrees": papertest.PDF(shared)} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("loop.pdf", data, Options{})
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want malformed or too large", err)
			}
		})
	}
	// A page whose /Parent chain loops: inherited keys are looked up a
	// bounded number of steps; the page has no text, so it is reported as
	// such rather than hanging.
	if _, err := Parse("parent.pdf", parentLoop, Options{}); !errors.Is(err, ErrNoText) {
		t.Errorf("parent loop: %v", err)
	}
}

// bombCases are the deflate bombs TestDeflateBombs runs, each in a child
// process so that its peak memory can be read.
var bombCases = map[string]func() []byte{
	// Forms nested eight deep, each 20 MiB, drawn 1000 times: every
	// stream alone is far under the 128 MiB cap.
	"nested forms": func() []byte { return bombPDF(1, 1000, 8, 20) },
	// 20 pages, each 15 MiB, together 300 MiB.
	"many pages": func() []byte { return bombPDF(20, 1, 1, 15) },
}

// TestDeflateBombs: content streams that decompress to gigabytes are
// refused as too large, in bounded memory. Before the document-wide
// budget, "nested forms" would have decompressed 160 GB (it ran until
// killed) and "many pages" was accepted.
func TestDeflateBombs(t *testing.T) {
	if name := os.Getenv("R2C_BOMB_CASE"); name != "" {
		_, err := Parse("bomb.pdf", bombCases[name](), Options{})
		fmt.Printf("RESULT too-large=%v err=%v\n", errors.Is(err, ErrTooLarge), err)
		return
	}
	if testing.Short() {
		t.Skip("builds and parses 100 MiB deflate streams")
	}
	for name := range bombCases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDeflateBombs$")
			cmd.Env = append(os.Environ(), "R2C_BOMB_CASE="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "RESULT too-large=true") {
				t.Fatalf("not refused as too large:\n%s", out)
			}
			// Maxrss is in KiB on Linux. The caps are 128 MiB of content
			// per page and 256 MiB per document; buffer slack and the
			// runtime come on top.
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
			t.Logf("peak RSS %d MiB: %s", rss>>20, strings.TrimSpace(string(out)))
			if rss > 640<<20 && !raceEnabled {
				t.Errorf("peak RSS %d MiB, want under 640 MiB", rss>>20)
			}
		})
	}
}
