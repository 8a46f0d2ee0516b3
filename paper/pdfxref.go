package paper

import (
	"bytes"
	"fmt"
	"strconv"
)

// maxXrefEntries bounds the object numbers a PDF may declare. The PDF
// library allocates its cross-reference table up front from /Size, from an
// xref stream's /Index and from the subsection headers of a classic xref
// table; a 300-byte file declaring three billion objects made it ask for
// ~100 GB and the Go runtime end the whole process ("fatal error: out of
// memory"), which no recover can catch. Real papers have thousands of
// objects; 4 million entries cost the library at most ~200 MB.
const maxXrefEntries = 4 << 20

// checkXrefSizes refuses data whose cross-reference declarations exceed
// maxXrefEntries, before the library sees them. Names are compared after
// #xx escapes are decoded, as the library does ("/S#69ze" is /Size).
func checkXrefSizes(data []byte) error {
	tooBig := func(what string, n int64) error {
		return fmt.Errorf("%w: the cross-reference %s declares %d objects (at most %d)", ErrTooLarge, what, n, maxXrefEntries)
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c != '/' && c != 'x':
			continue
		case c == '/':
			// Only /Size, /Index and names with escapes can matter.
			if i+1 < len(data) && data[i+1] != 'S' && data[i+1] != 'I' && data[i+1] != '#' {
				continue
			}
			name, end := pdfName(data, i+1)
			switch name {
			case "Size":
				if n, _, ok := pdfInt(data, end); ok && (n < 0 || n > maxXrefEntries) {
					return tooBig("size", n)
				}
			case "Index":
				j := skipPDFSpace(data, end)
				if j >= len(data) || data[j] != '[' {
					continue
				}
				j++
				for {
					start, e1, ok1 := pdfInt(data, j)
					count, e2, ok2 := pdfInt(data, e1)
					if !ok1 || !ok2 {
						break
					}
					if start < 0 || count < 0 || start > maxXrefEntries || count > maxXrefEntries || start+count > maxXrefEntries {
						return tooBig("stream index", start+count)
					}
					j = e2
				}
			}
			i = end - 1
		case bytes.HasPrefix(data[i:], []byte("xref")) && (i == 0 || isPDFSpace(data[i-1])):
			// A classic table: subsections of "start count" headers, each
			// followed by count 20-byte entries (offset generation n|f).
			j := i + len("xref")
			for {
				start, e1, ok1 := pdfInt(data, j)
				count, e2, ok2 := pdfInt(data, e1)
				if !ok1 || !ok2 {
					break
				}
				if start < 0 || count < 0 || start > maxXrefEntries || count > maxXrefEntries || start+count > maxXrefEntries {
					return tooBig("table", start+count)
				}
				j = e2
				for k := int64(0); k < count; k++ {
					_, e, ok := pdfInt(data, j)
					if !ok {
						break
					}
					if _, e, ok = pdfInt(data, e); !ok {
						break
					}
					j = skipPDFSpace(data, e)
					if j < len(data) && (data[j] == 'n' || data[j] == 'f') {
						j++
					}
				}
			}
		}
	}
	return nil
}

// pdfName reads a name's bytes from data[i:] (after the slash), decoding
// #xx escapes, and returns it with the offset after it.
func pdfName(data []byte, i int) (string, int) {
	var b []byte
	for i < len(data) && !isPDFSpace(data[i]) && !isPDFDelim(data[i]) && len(b) < 16 {
		if data[i] == '#' && i+2 < len(data) {
			if hi, lo := unhexByte(data[i+1]), unhexByte(data[i+2]); hi >= 0 && lo >= 0 {
				b = append(b, byte(hi<<4|lo))
				i += 3
				continue
			}
		}
		b = append(b, data[i])
		i++
	}
	return string(b), i
}

// pdfInt reads an integer token after white space and comments.
func pdfInt(data []byte, i int) (n int64, end int, ok bool) {
	i = skipPDFSpace(data, i)
	j := i
	if j < len(data) && (data[j] == '+' || data[j] == '-') {
		j++
	}
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		j++
	}
	if j < len(data) && !isPDFSpace(data[j]) && !isPDFDelim(data[j]) {
		return 0, i, false // a real number or a keyword, not an integer
	}
	n, err := strconv.ParseInt(string(data[i:j]), 10, 64)
	if err != nil {
		if j > i && bytes.ContainsAny(data[i:j], "0123456789") {
			return 1 << 62, j, true // too many digits for int64: huge
		}
		return 0, i, false
	}
	return n, j, true
}

func skipPDFSpace(data []byte, i int) int {
	for i < len(data) {
		switch {
		case isPDFSpace(data[i]):
			i++
		case data[i] == '%':
			for i < len(data) && data[i] != '\n' && data[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}
