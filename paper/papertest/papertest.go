// Package papertest builds small PDFs by hand for tests: malformed,
// hostile or minimal documents that no typesetter would write, so the
// reader's edge cases can be reached directly.
package papertest

import (
	"bytes"
	"fmt"
)

// PDF writes objs as objects 1..n of a PDF with a classic cross-reference
// table; objs[0] must be the catalog. Each element is an object's body, a
// stream included ("<< /Length 5 >>\nstream\n...\nendstream").
func PDF(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
