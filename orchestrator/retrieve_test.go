package orchestrator

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRetrievalQueryCutsAtACharacterBoundary(t *testing.T) {
	// 'é' is two bytes: after an odd-length prefix, byte maxQueryBytes falls
	// inside one.
	text := "x" + strings.Repeat("é", maxQueryBytes)
	q := retrievalQuery("3.2 Attention", text)
	if !utf8.ValidString(q) {
		t.Fatal("the query ends in half a character")
	}
	body := strings.TrimPrefix(q, "3.2 Attention\n")
	if len(body) > maxQueryBytes || len(body) < maxQueryBytes-utf8.UTFMax {
		t.Fatalf("query body is %d bytes, want just under %d", len(body), maxQueryBytes)
	}
	if short := retrievalQuery("h", "short"); short != "h\nshort" {
		t.Fatalf("a short section must be kept whole: %q", short)
	}
}
