package paper

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// checkObjectStreams refuses two object-stream shapes that send the PDF
// library into unbounded work before any of its code returns:
//
//   - an object stream that is itself stored in an object stream, or whose
//     dictionary refers to an object stored in one (its /N, /Length...):
//     the library resolves the stream to find the object, the object to
//     read the stream, and so on until the goroutine's stack passes 1 GB
//     and the runtime ends the process ("fatal error: stack overflow",
//     which recover cannot catch);
//   - a cycle of /Extends links between object streams: looking for an
//     object that is in none of them, the library follows the links
//     forever.
//
// The PDF specification forbids both (streams are never stored in object
// streams; Extends forms a chain). The check reads the file's own text: the
// dictionaries of objects stored directly in it, and its cross-reference
// streams, decoded here, to learn which objects live in object streams.
func checkObjectStreams(data []byte) error {
	if !bytes.Contains(data, []byte("ObjStm")) && !bytes.Contains(data, []byte("/Obj#")) {
		// No object streams (a name with #xx escapes could spell one).
		return nil
	}
	var (
		inStream = map[int64]int64{} // object → the object stream holding it
		objStms  []rawObject
	)
	for _, o := range rawObjects(data) {
		switch o.dict.name("Type") {
		case "ObjStm":
			objStms = append(objStms, o)
		case "XRef":
			readXrefStreamEntries(data, o, inStream)
		}
	}
	for obj, strm := range inStream {
		if _, nested := inStream[strm]; nested {
			return fmt.Errorf("%w: object %d is in object stream %d, which is itself stored in an object stream", ErrMalformed, obj, strm)
		}
	}
	extends := map[int64][]int64{}
	for _, o := range objStms {
		for _, ref := range o.dict.allRefs() {
			if strm, ok := inStream[ref]; ok {
				return fmt.Errorf("%w: object stream %d refers to object %d, stored in object stream %d", ErrMalformed, o.num, ref, strm)
			}
		}
		if ref, ok := o.dict.refs["Extends"]; ok {
			extends[o.num] = append(extends[o.num], ref)
		}
	}
	// Depth-first search for a cycle in the Extends links.
	state := map[int64]int{} // 0 unseen, 1 on the path, 2 done
	var visit func(n int64) bool
	visit = func(n int64) bool {
		switch state[n] {
		case 1:
			return true
		case 2:
			return false
		}
		state[n] = 1
		for _, m := range extends[n] {
			if visit(m) {
				return true
			}
		}
		state[n] = 2
		return false
	}
	for n := range extends {
		if visit(n) {
			return fmt.Errorf("%w: object stream %d extends itself through a cycle of /Extends links", ErrMalformed, n)
		}
	}
	return nil
}

// rawObject is an object stored directly in the file ("12 0 obj <<...>>").
type rawObject struct {
	num  int64
	dict *rawDict
	end  int // offset after the dictionary
}

// rawObjects finds the objects in data that start with a dictionary.
func rawObjects(data []byte) []rawObject {
	var out []rawObject
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("obj"))
		if j < 0 {
			return out
		}
		at := i + j
		i = at + 3
		num, ok := objectNumberBefore(data, at)
		if !ok {
			continue
		}
		k := skipPDFSpace(data, at+3)
		if !bytes.HasPrefix(data[k:], []byte("<<")) {
			continue
		}
		d, end, ok := parseRawDict(data, k, 0)
		if !ok {
			continue
		}
		out = append(out, rawObject{num: num, dict: d, end: end})
		i = end
	}
}

// objectNumberBefore reads "num gen " backwards from the "obj" at data[at].
func objectNumberBefore(data []byte, at int) (int64, bool) {
	if at == 0 || !isPDFSpace(data[at-1]) {
		return 0, false
	}
	i := at - 1
	digitsBack := func() (int, int, bool) {
		for i >= 0 && isPDFSpace(data[i]) {
			i--
		}
		end := i + 1
		for i >= 0 && data[i] >= '0' && data[i] <= '9' {
			i--
		}
		return i + 1, end, i+1 < end && end-(i+1) <= 10
	}
	if _, _, ok := digitsBack(); !ok { // generation
		return 0, false
	}
	s, e, ok := digitsBack()
	if !ok {
		return 0, false
	}
	n, _, ok := pdfInt(data, s)
	return n, ok && e > s
}

// rawDict is what the checks need of a dictionary: names, integers,
// indirect references and integer arrays of its top level, and its
// sub-dictionaries.
type rawDict struct {
	names  map[string]string
	ints   map[string]int64
	refs   map[string]int64
	arrays map[string][]int64
	subs   map[string]*rawDict
	// arrayRefs holds references found inside arrays, by key.
	arrayRefs map[string][]int64
}

func (d *rawDict) name(key string) string { return d.names[key] }

// allRefs lists every indirect reference in the dictionary, nested ones
// included.
func (d *rawDict) allRefs() []int64 {
	var out []int64
	for _, r := range d.refs {
		out = append(out, r)
	}
	for _, rs := range d.arrayRefs {
		out = append(out, rs...)
	}
	for _, s := range d.subs {
		out = append(out, s.allRefs()...)
	}
	return out
}

// parseRawDict parses the dictionary starting at data[i] ("<<").
func parseRawDict(data []byte, i, depth int) (*rawDict, int, bool) {
	if depth > 16 {
		return nil, i, false
	}
	d := &rawDict{names: map[string]string{}, ints: map[string]int64{}, refs: map[string]int64{}, arrays: map[string][]int64{}, subs: map[string]*rawDict{}, arrayRefs: map[string][]int64{}}
	i += 2
	for {
		i = skipPDFSpace(data, i)
		if i >= len(data) {
			return nil, i, false
		}
		if bytes.HasPrefix(data[i:], []byte(">>")) {
			return d, i + 2, true
		}
		if data[i] != '/' {
			return nil, i, false
		}
		key, end := pdfName(data, i+1)
		i = skipPDFSpace(data, end)
		if i >= len(data) {
			return nil, i, false
		}
		switch c := data[i]; {
		case c == '/':
			d.names[key], i = pdfName(data, i+1)
		case bytes.HasPrefix(data[i:], []byte("<<")):
			sub, end, ok := parseRawDict(data, i, depth+1)
			if !ok {
				return nil, end, false
			}
			d.subs[key], i = sub, end
		case c == '[':
			ints, refs, end, ok := rawArray(data, i+1)
			if !ok {
				return nil, end, false
			}
			d.arrays[key], d.arrayRefs[key], i = ints, refs, end
		case c == '(' || c == '<':
			end, ok := skipPDFString(data, i)
			if !ok {
				return nil, end, false
			}
			i = end
		default:
			n, end, ok := pdfInt(data, i)
			if !ok { // a real, a boolean, null: skip the token
				for i < len(data) && !isPDFSpace(data[i]) && !isPDFDelim(data[i]) {
					i++
				}
				continue
			}
			// "12 0 R" is a reference.
			if _, e2, ok := pdfInt(data, end); ok {
				if k := skipPDFSpace(data, e2); k < len(data) && data[k] == 'R' {
					d.refs[key], i = n, k+1
					continue
				}
			}
			d.ints[key], i = n, end
		}
	}
}

// rawArray reads an array's integers and references up to its "]".
func rawArray(data []byte, i int) (ints, refs []int64, end int, ok bool) {
	for {
		i = skipPDFSpace(data, i)
		if i >= len(data) {
			return nil, nil, i, false
		}
		switch c := data[i]; {
		case c == ']':
			return ints, refs, i + 1, true
		case c == '[' || c == '<' || c == '(':
			// Nested arrays, dictionaries and strings are not needed.
			if c == '[' {
				_, r, e, ok := rawArray(data, i+1)
				if !ok {
					return nil, nil, e, false
				}
				refs, i = append(refs, r...), e
				continue
			}
			if bytes.HasPrefix(data[i:], []byte("<<")) {
				sub, e, ok := parseRawDict(data, i, 1)
				if !ok {
					return nil, nil, e, false
				}
				refs, i = append(refs, sub.allRefs()...), e
				continue
			}
			e, ok := skipPDFString(data, i)
			if !ok {
				return nil, nil, e, false
			}
			i = e
		case c == 'R' && len(ints) >= 2:
			refs = append(refs, ints[len(ints)-2])
			ints = ints[:len(ints)-2]
			i++
		default:
			n, e, ok := pdfInt(data, i)
			if !ok {
				if e = i; e < len(data) && !isPDFDelim(data[e]) {
					for e < len(data) && !isPDFSpace(data[e]) && !isPDFDelim(data[e]) {
						e++
					}
				} else {
					e++
				}
				i = e
				continue
			}
			ints, i = append(ints, n), e
		}
	}
}

// skipPDFString skips a literal (parenthesised) or hex string.
func skipPDFString(data []byte, i int) (int, bool) {
	if data[i] == '<' {
		j := bytes.IndexByte(data[i:], '>')
		if j < 0 {
			return len(data), false
		}
		return i + j + 1, true
	}
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i + 1, true
			}
		}
	}
	return i, false
}

// maxXrefStreamBytes bounds how much of a cross-reference stream is
// decoded for the check (4M entries of a few bytes).
const maxXrefStreamBytes = 64 << 20

// readXrefStreamEntries decodes a cross-reference stream stored in the
// file and records its type-2 entries (object → object stream). Streams it
// cannot decode are skipped; the library then fails on them by itself.
func readXrefStreamEntries(data []byte, o rawObject, inStream map[int64]int64) {
	i := skipPDFSpace(data, o.end)
	if !bytes.HasPrefix(data[i:], []byte("stream")) {
		return
	}
	i += len("stream")
	if bytes.HasPrefix(data[i:], []byte("\r\n")) {
		i += 2
	} else if i < len(data) && data[i] == '\n' {
		i++
	}
	end := -1
	if n, ok := o.dict.ints["Length"]; ok && n >= 0 && int64(i)+n <= int64(len(data)) {
		end = i + int(n)
	} else if j := bytes.Index(data[i:], []byte("endstream")); j >= 0 {
		end = i + j
	} else {
		return
	}
	raw := data[i:end]
	var stream []byte
	switch o.dict.name("Filter") {
	case "":
		stream = raw
	case "FlateDecode":
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return
		}
		stream, _ = io.ReadAll(io.LimitReader(zr, maxXrefStreamBytes))
		if p := o.dict.subs["DecodeParms"]; p != nil && p.ints["Predictor"] >= 10 {
			stream = unpredictPNG(stream, int(p.ints["Columns"]))
		}
	default:
		return
	}
	w := o.dict.arrays["W"]
	if len(w) < 3 || w[0] < 0 || w[1] < 0 || w[2] < 0 || w[0] > 8 || w[1] > 8 || w[2] > 8 {
		return
	}
	width := int(w[0] + w[1] + w[2])
	index := o.dict.arrays["Index"]
	if len(index) == 0 {
		index = []int64{0, o.dict.ints["Size"]}
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := 0
	for k := 0; k+1 < len(index); k += 2 {
		for n := int64(0); n < index[k+1] && pos+width <= len(stream) && width > 0; n++ {
			e := stream[pos : pos+width]
			pos += width
			typ := int64(1)
			if w[0] > 0 {
				typ = field(e[:w[0]])
			}
			if typ == 2 {
				inStream[index[k]+n] = field(e[w[0] : w[0]+w[1]])
			}
		}
	}
}

// unpredictPNG undoes the PNG row filters of a predicted stream.
func unpredictPNG(b []byte, columns int) []byte {
	if columns <= 0 {
		columns = 1
	}
	row := columns + 1
	out := make([]byte, 0, len(b)/row*columns)
	prev := make([]byte, columns)
	for len(b) >= row {
		filter, cur := b[0], append([]byte(nil), b[1:row]...)
		b = b[row:]
		for x := range cur {
			var left, upLeft byte
			if x > 0 {
				left, upLeft = cur[x-1], prev[x-1]
			}
			up := prev[x]
			switch filter {
			case 1:
				cur[x] += left
			case 2:
				cur[x] += up
			case 3:
				cur[x] += byte((int(left) + int(up)) / 2)
			case 4:
				cur[x] += paeth(left, up, upLeft)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
