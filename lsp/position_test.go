package lsp

import (
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// The oracle for UTF-16 and UTF-32 columns is the standard library's own
// encoders, applied to every prefix of the line.
func TestColumnConversionAgainstStdlib(t *testing.T) {
	lines := []string{
		"",
		"plain ascii",
		"café = 'é'",
		"数据 = load()  # 中文",
		"x = '🎉' + '𝔘𝔫𝔦' + 'b'",
		"mixed é🎉数 end",
		"bad \xff\xfe bytes",
	}
	for _, line := range lines {
		b := []byte(line)
		for i := 0; i <= len(b); {
			prefix := b[:i]
			want16 := uint32(len(utf16.Encode([]rune(string(prefix)))))
			want32 := uint32(utf8.RuneCount(prefix))
			if got := encUTF16.unitCol(b, i); got != want16 {
				t.Errorf("%q: utf-16 col of byte %d = %d, want %d", line, i, got, want16)
			}
			if got := encUTF32.unitCol(b, i); got != want32 {
				t.Errorf("%q: utf-32 col of byte %d = %d, want %d", line, i, got, want32)
			}
			if got := encUTF16.byteCol(b, want16); got != i {
				t.Errorf("%q: byte of utf-16 col %d = %d, want %d", line, want16, got, i)
			}
			if got := encUTF32.byteCol(b, want32); got != i {
				t.Errorf("%q: byte of utf-32 col %d = %d, want %d", line, want32, got, i)
			}
			if got := encUTF8.byteCol(b, uint32(i)); got != i {
				t.Errorf("%q: byte of utf-8 col %d = %d", line, i, got)
			}
			if i == len(b) {
				break
			}
			_, size := utf8.DecodeRune(b[i:])
			i += size
		}
		// Past the end clamps to the line's end.
		if got := encUTF16.byteCol(b, 1000); got != len(b) {
			t.Errorf("%q: clamp = %d, want %d", line, got, len(b))
		}
	}
}

func TestColumnInsideSurrogatePairRoundsDown(t *testing.T) {
	line := []byte("a🎉b")
	// 🎉 occupies UTF-16 columns 1–2; column 2 is its second half.
	if got := encUTF16.byteCol(line, 2); got != 1 {
		t.Fatalf("byteCol inside surrogate pair = %d, want 1", got)
	}
	if got := encUTF8.byteCol(line, 3); got != 1 {
		t.Fatalf("utf-8 col inside a sequence = %d, want 1", got)
	}
}

func TestLoneCarriageReturnEndsALine(t *testing.T) {
	// Old Mac line ends: the LSP spec, CPython and the style engine all count
	// a lone "\r" as a line end, so ranges must too.
	x := newLineIndex([]byte("a = 1\rbb = 2\r\ncc\r"))
	want := []string{"a = 1", "bb = 2", "cc", ""}
	if x.lines() != len(want) {
		t.Fatalf("lines = %d, want %d", x.lines(), len(want))
	}
	for i, w := range want {
		if got := string(x.line(i)); got != w {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	if off, err := x.offset(encUTF16, protocol.Position{Line: 1, Character: 1}); err != nil || off != len("a = 1\rb") {
		t.Errorf("offset of 1:1 = %d, %v", off, err)
	}
}

func TestLineIndex(t *testing.T) {
	text := []byte("one\r\ntwo é\n\nlast🎉")
	x := newLineIndex(text)
	if x.lines() != 4 {
		t.Fatalf("lines = %d, want 4", x.lines())
	}
	wantLines := []string{"one", "two é", "", "last🎉"}
	for i, w := range wantLines {
		if got := string(x.line(i)); got != w {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	for off := 0; off <= len(text); off++ {
		if off < len(text) && !utf8.RuneStart(text[off]) {
			continue
		}
		p := x.position(encUTF16, off)
		back, err := x.offset(encUTF16, p)
		if err != nil {
			t.Fatal(err)
		}
		// "\r" before "\n" maps to the end of its line.
		if back != off && !(off < len(text) && text[off] == '\n' && text[off-1] == '\r') {
			t.Errorf("offset %d → %v → %d", off, p, back)
		}
	}
	if _, err := x.offset(encUTF16, protocol.Position{Line: 4}); err == nil {
		t.Error("line past the end: want an error")
	}
	if got := x.fromByteCol(encUTF16, 3, len("last🎉")); got.Character != uint32(len("last")+2) {
		t.Errorf("fromByteCol = %v", got)
	}
	if got := x.fromByteCol(encUTF16, 99, 0); got.Line != 3 {
		t.Errorf("fromByteCol past the end = %v, want clamped to the last line", got)
	}
}

func TestNegotiateEncoding(t *testing.T) {
	cases := []struct {
		offered []protocol.PositionEncodingKind
		want    encoding
	}{
		{nil, encUTF16},
		{[]protocol.PositionEncodingKind{"utf-8", "utf-16"}, encUTF8},
		{[]protocol.PositionEncodingKind{"utf-32", "utf-8"}, encUTF32},
		{[]protocol.PositionEncodingKind{"utf-16", "utf-8"}, encUTF16},
		{[]protocol.PositionEncodingKind{"ebcdic"}, encUTF16},
	}
	for _, c := range cases {
		if got := negotiateEncoding(c.offered); got != c.want {
			t.Errorf("negotiate(%v) = %v, want %v", c.offered, got, c.want)
		}
	}
}
