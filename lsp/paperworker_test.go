package lsp_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/paper"
	"github.com/r2c-ai/r2c/paper/papertest"
)

func flate(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestSpeed)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

// onePage is a one-page PDF whose page content is stream (already encoded
// with filter, "" for none).
func onePage(stream, filter string) []byte {
	f := ""
	if filter != "" {
		f = " /Filter /" + filter
	}
	return papertest.PDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(stream), f, stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	})
}

func sectionsCmd(paper string) protocol.Command {
	arg, _ := json.Marshal(map[string]string{"paper": paper})
	return protocol.Command{Command: lsp.CommandSections, Arguments: []protocol.LSPAny{arg}}
}

// Hostile PDFs are parsed in a child process under limits: while one is
// being parsed the server answers other requests, and each ends in an error
// that says what happened and what to do.
func TestHostilePDFsAreParsedInALimitedChild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds large hostile PDFs")
	}
	// An endless content stream: text-showing operators for far longer
	// than the time limit allows (120 MB decoded from ~1 MB).
	endless := flate(t, bytes.Repeat([]byte("BT /F1 9 Tf 72 700 Td (Attention is all you need) Tj ET\n"), 2_200_000))
	// A decompression bomb: one stream that inflates to 640 MiB of zeros.
	bomb := flate(t, make([]byte, 640<<20))
	// Deep nesting: arrays nested a million deep in the page's resources.
	deep := papertest.PDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /X " + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + " >> >>",
	})
	files := map[string][]byte{
		"endless.pdf": onePage(endless, "FlateDecode"),
		"bomb.pdf":    onePage(bomb, "FlateDecode"),
		"deep.pdf":    deep,
	}
	limits := lsp.PaperLimits{Timeout: 4 * time.Second, Memory: 300 << 20}
	e := lsptest.New(t, serve(lsp.Options{PaperLimits: limits}), lsptest.Config{InitializationOptions: noProfile})
	for name, data := range files {
		if err := os.WriteFile(e.Path(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(e.Path("good.md"), []byte("# A Good Paper\n\n## 1 Introduction\n\nText.\n\n## 2 Method\n\nMore.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"endless.pdf", "bomb.pdf", "deep.pdf"} {
		t.Run(name, func(t *testing.T) {
			type answer struct {
				err error
				at  time.Time
			}
			hostile := make(chan answer, 1)
			start := time.Now()
			go func() {
				var out paper.Outline
				err := e.ExecuteCommand(context.Background(), sectionsCmd(name), &out)
				hostile <- answer{err, time.Now()}
			}()
			// Meanwhile: another paper's sections and a code action answer.
			time.Sleep(50 * time.Millisecond)
			var good paper.Outline
			if err := e.ExecuteCommand(context.Background(), sectionsCmd("good.md"), &good); err != nil {
				t.Fatalf("sections of good.md while %s is parsed: %v", name, err)
			}
			goodAt := time.Now()
			if len(good.Sections) != 2 || good.Title != "A Good Paper" || good.Sections[1].Heading != "2 Method" {
				t.Fatalf("good.md outline %+v", good)
			}
			var h answer
			select {
			case h = <-hostile:
			case <-time.After(limits.Timeout + 20*time.Second):
				t.Fatalf("%s: no answer %s after the time limit", name, 20*time.Second)
			}
			if h.err == nil {
				t.Fatalf("%s parsed without an error", name)
			}
			msg := h.err.Error()
			t.Logf("%s after %s (good.md answered after %s): %s", name, h.at.Sub(start).Round(time.Millisecond), goodAt.Sub(start).Round(time.Millisecond), msg)
			if !strings.Contains(msg, name) {
				t.Errorf("the error does not name the file: %s", msg)
			}
			if name == "bomb.pdf" && !strings.Contains(msg, "memory") {
				t.Errorf("decompression bomb: %s", msg)
			}
			if name == "endless.pdf" {
				// When the time limit stops it, the hostile parse runs for
				// 4 s and good.md must have been answered meanwhile. When
				// the memory limit stops it first (within a second, on a
				// loaded machine), good.md's own worker may still be
				// starting: the order then says nothing, but good.md must
				// not have waited anywhere near the time limit.
				if strings.Contains(msg, "took longer than") && !goodAt.Before(h.at) {
					t.Errorf("good.md answered after the hostile %s", name)
				}
				if goodAt.Sub(start) > limits.Timeout {
					t.Errorf("good.md took %s while %s was parsed: longer than the time limit", goodAt.Sub(start), name)
				}
				// Which limit stops it first depends on the machine's load.
				if !strings.Contains(msg, "took longer than 4s") && !strings.Contains(msg, "needed more than 300 MiB") {
					t.Errorf("endless content stream: %s", msg)
				}
			}
		})
	}
	// The server is still there and well.
	var good paper.Outline
	if err := e.ExecuteCommand(context.Background(), sectionsCmd("good.md"), &good); err != nil || len(good.Sections) == 0 {
		t.Fatalf("after the hostile PDFs: %v %+v", err, good)
	}
}
