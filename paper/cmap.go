package paper

import (
	"io"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// toUnicode is a font's ToUnicode CMap: character code → text. The PDF
// library has one too, but it only consults it when the font has no
// /Encoding (a font with both — common in Word and Ghostscript output —
// is decoded from its glyph names instead), and its parser can loop
// forever; this one reads the CMap with the package's own tokenizer.
type toUnicode struct {
	single map[uint32]string
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi uint32
	dst    []rune   // first destination; the last rune is incremented
	arr    []string // or one destination per code
}

// maxCmapEntries bounds the single mappings kept from one CMap.
const maxCmapEntries = 1 << 17

// parseToUnicode reads a ToUnicode stream; nil when there is none or it
// cannot be read.
func parseToUnicode(v pdf.Value) (m *toUnicode) {
	defer func() {
		if recover() != nil {
			m = nil
		}
	}()
	if v.Kind() != pdf.Stream {
		return nil
	}
	rc := v.Reader()
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil && len(data) == 0 {
		return nil
	}
	m = &toUnicode{single: map[uint32]string{}}
	lexContent(data, func(op string, args []operand) {
		switch op {
		case "endbfchar":
			for i := 0; i+1 < len(args); i += 2 {
				if args[i].kind == 's' && args[i+1].kind == 's' && len(m.single) < maxCmapEntries {
					m.single[codeOf(args[i].str)] = string(utf16Runes(args[i+1].str))
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(args); i += 3 {
				lo, hi, dst := args[i], args[i+1], args[i+2]
				if lo.kind != 's' || hi.kind != 's' || len(m.ranges) > maxCmapEntries {
					continue
				}
				r := cmapRange{lo: codeOf(lo.str), hi: codeOf(hi.str)}
				if r.hi < r.lo {
					continue
				}
				switch dst.kind {
				case 's':
					r.dst = utf16Runes(dst.str)
				case '[':
					for _, d := range dst.arr {
						r.arr = append(r.arr, string(utf16Runes(d.str)))
					}
				default:
					continue
				}
				m.ranges = append(m.ranges, r)
			}
		}
	})
	if len(m.single) == 0 && len(m.ranges) == 0 {
		return nil
	}
	return m
}

// lookup maps one character code; ok is false when the CMap has no entry.
func (m *toUnicode) lookup(code uint32) (string, bool) {
	if s, ok := m.single[code]; ok {
		return s, true
	}
	for _, r := range m.ranges {
		if code < r.lo || code > r.hi {
			continue
		}
		off := int(code - r.lo)
		if r.arr != nil {
			if off < len(r.arr) {
				return r.arr[off], true
			}
			return "", false
		}
		if len(r.dst) == 0 {
			return "", false
		}
		out := append([]rune(nil), r.dst...)
		out[len(out)-1] += rune(off)
		return string(out), true
	}
	return "", false
}

func codeOf(s string) uint32 {
	var c uint32
	for i := 0; i < len(s) && i < 4; i++ {
		c = c<<8 | uint32(s[i])
	}
	return c
}

// utf16Runes decodes big-endian UTF-16 (surrogate pairs included).
func utf16Runes(s string) []rune {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	if len(s)%2 == 1 { // a one-byte destination: take it as a code point
		u = append(u, uint16(s[len(s)-1]))
	}
	return utf16.Decode(u)
}
