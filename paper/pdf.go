package paper

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
	"golang.org/x/text/unicode/norm"
)

// Errors a PDF can fail with; each is wrapped with the file name, so test
// with errors.Is.
var (
	ErrEncrypted = errors.New("the PDF is encrypted (password-protected); decrypt it first, e.g. qpdf --decrypt --password=PW in.pdf out.pdf")
	ErrTruncated = errors.New("the PDF is truncated (its end, with the %%EOF marker and cross-reference table, is missing); download it again")
	ErrNoText    = errors.New("the PDF has no text layer (a scan or images only); run OCR first, e.g. ocrmypdf in.pdf out.pdf")
	ErrMalformed = errors.New("the PDF is malformed")
	ErrTooLarge  = errors.New("the PDF is over the size limit")
)

// maxGlyphs bounds the glyphs read from one document so that a hostile
// content stream cannot exhaust memory.
const maxGlyphs = 20_000_000

// docBudget is what one document may still read, shared by the page
// workers.
type docBudget struct {
	glyphs atomic.Int64
	// content is the decompressed content-stream bytes left (see
	// maxDocContentBytes).
	content atomic.Int64
}

func newDocBudget() *docBudget {
	b := &docBudget{}
	b.glyphs.Store(maxGlyphs)
	b.content.Store(maxDocContentBytes)
	return b
}

// glyph is one drawn character with its position in page space (points,
// origin bottom-left).
type glyph struct {
	x, y, w, size float64
	s             string
	font          *fontInfo
}

type fontInfo struct {
	name               string
	bold, italic, math bool
	enc                pdf.TextEncoding
	decoded            [256]string
	known              [256]bool
	first              int
	widths             []float64
	twoByte            bool
	defaultWidth       float64
	cidWidths          map[int]float64
	tu                 *toUnicode
	// widthScale is 1 except for Type 3 fonts, whose FontMatrix maps
	// glyph widths to text space (rather than 1/1000).
	widthScale float64
	// anonymous fonts (Type 3, no BaseFont) have no name to read
	// boldness or math from.
	anonymous bool
	// std is the standard-14 metrics of a simple font that has no
	// /Widths (see std14Widths); stdW caches them per code.
	std   map[rune]uint16
	stdW  [256]float64
	stdOK [256]bool
}

func (f *fontInfo) decode(code int) string {
	if f.twoByte {
		if f.tu != nil {
			if s, ok := f.tu.lookup(uint32(code)); ok {
				return normalizeGlyph(s)
			}
		}
		return normalizeGlyph(f.enc.Decode(string([]byte{byte(code >> 8), byte(code)})))
	}
	if !f.known[code] {
		f.decoded[code] = normalizeGlyph(f.enc.Decode(string([]byte{byte(code)})))
		f.known[code] = true
	}
	return f.decoded[code]
}

// cidWidths reads a CID font's W array: "c [w1 w2 ...]" gives widths
// from c on, "c1 c2 w" one width for a range.
func cidWidths(w pdf.Value) map[int]float64 {
	out := map[int]float64{}
	for i := 0; i+1 < w.Len() && len(out) < 1<<16; {
		first := int(w.Index(i).Int64())
		if next := w.Index(i + 1); next.Kind() == pdf.Array {
			for j := 0; j < next.Len() && j < 1<<16; j++ {
				out[first+j] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		if i+2 >= w.Len() {
			break
		}
		last, width := int(w.Index(i+1).Int64()), w.Index(i+2).Float64()
		for c := first; c <= last && c-first < 1<<16; c++ {
			out[c] = width
		}
		i += 3
	}
	return out
}

func (f *fontInfo) width(code int) float64 {
	if f.twoByte {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.defaultWidth
	}
	if i := code - f.first; i >= 0 && i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i]
	}
	if f.std != nil && len(f.widths) == 0 && code >= 0 && code < 256 {
		if !f.stdOK[code] {
			f.stdW[code], f.stdOK[code] = stdWidth(f.std, f.decode(code), f.defaultWidth), true
		}
		return f.stdW[code]
	}
	return f.defaultWidth
}

// ligatureRunes maps the expansions normalizeGlyph makes back to the
// ligature glyph, whose width the metrics give.
var ligatureRunes = map[string]rune{"ff": 'ﬀ', "fi": 'ﬁ', "fl": 'ﬂ', "ffi": 'ﬃ', "ffl": 'ﬄ'}

// stdWidth is the standard-14 width of the glyph that draws s: its own
// entry, the ligature's, or the sum of its letters'.
func stdWidth(m map[rune]uint16, s string, fallback float64) float64 {
	if r, ok := ligatureRunes[s]; ok {
		if w, ok := m[r]; ok {
			return float64(w)
		}
	}
	total, n := 0.0, 0
	for _, r := range s {
		w, ok := m[r]
		if !ok {
			return fallback
		}
		total += float64(w)
		n++
	}
	if n == 0 {
		return fallback
	}
	return total
}

// std14Metrics finds the standard-14 metrics a font name stands for:
// the 14 names themselves and the usual aliases (Arial, TimesNewRoman,
// "Times-Roman,Bold", "Helvetica-BoldOblique").
func std14Metrics(name string) map[rune]uint16 {
	if i := strings.Index(name, "+"); i >= 0 {
		name = name[i+1:] // a subset tag
	}
	if m, ok := std14Widths[name]; ok {
		return m
	}
	low := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	bold := strings.Contains(low, "bold")
	italic := strings.Contains(low, "italic") || strings.Contains(low, "oblique")
	pick := func(base, b, i, bi string) map[rune]uint16 {
		switch {
		case bold && italic:
			return std14Widths[bi]
		case bold:
			return std14Widths[b]
		case italic:
			return std14Widths[i]
		}
		return std14Widths[base]
	}
	switch {
	case strings.HasPrefix(low, "courier"):
		return pick("Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique")
	case strings.HasPrefix(low, "helvetica"), strings.HasPrefix(low, "arial"):
		return pick("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique")
	case strings.HasPrefix(low, "times"):
		return pick("Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic")
	case low == "symbol":
		return std14Widths["Symbol"]
	case low == "zapfdingbats":
		return std14Widths["ZapfDingbats"]
	}
	return nil
}

// normalizeGlyph expands ligatures and drops control characters, so "ﬁ"
// reads as "fi" as it does in pdftotext's output.
func normalizeGlyph(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ﬀ':
			b.WriteString("ff")
		case 'ﬁ':
			b.WriteString("fi")
		case 'ﬂ':
			b.WriteString("fl")
		case 'ﬃ':
			b.WriteString("ffi")
		case 'ﬄ':
			b.WriteString("ffl")
		case 0xA0:
			b.WriteByte(' ')
		default:
			if r == utf8.RuneError || unicode.IsControl(r) {
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	mathFontHints = []string{"CMMI", "CMSY", "CMEX", "MSAM", "MSBM", "CMMIB", "CMBSY", "EUFM", "EUSM", "RSFS", "STMARY", "MATH", "SYMBOL", "MSBM", "TXSY", "TXEX", "PXSY", "PXEX", "TXMI", "PXMI", "NEWTXMI", "STIXMATH", "CAMBRIAMATH", "LMMATH"}
	boldHints     = []string{"CMBX", "CMB10", "BOLD", "-BD", "BLACK", "HEAVY", "SEMIBOLD", "DEMI", "MEDI", "CMSSBX", "-B", ",BOLD"}
)

func newFontInfo(f pdf.Font) *fontInfo {
	name := f.BaseFont()
	if i := strings.Index(name, "+"); i >= 0 {
		name = name[i+1:]
	}
	up := strings.ToUpper(name)
	fi := &fontInfo{name: name, first: f.FirstChar(), defaultWidth: 500, widthScale: 1}
	fi.anonymous = name == "" || f.V.Key("Subtype").Name() == "Type3"
	for _, h := range mathFontHints {
		if strings.Contains(up, h) {
			fi.math = true
		}
	}
	for _, h := range boldHints {
		if strings.Contains(up, h) && !(h == "-B" && !strings.HasSuffix(up, "-B")) {
			fi.bold = true
		}
	}
	fi.italic = strings.Contains(up, "ITALIC") || strings.Contains(up, "CMTI") || strings.Contains(up, "OBLIQUE")
	// Type 3 glyph widths are in glyph space, mapped to text space by the
	// font's own FontMatrix rather than by 1/1000.
	if f.V.Key("Subtype").Name() == "Type3" {
		if fm := f.V.Key("FontMatrix"); fm.Len() == 6 {
			a := fm.Index(0).Float64()
			if a != 0 && !math.IsNaN(a) && !math.IsInf(a, 0) && math.Abs(a) < 1e3 {
				fi.widthScale = a * 1000
			}
		}
	}
	w := f.V.Key("Widths")
	for i := 0; i < w.Len() && i < 65536; i++ {
		fi.widths = append(fi.widths, w.Index(i).Float64())
	}
	if len(fi.widths) == 0 && !fi.anonymous && f.V.Key("Subtype").Name() != "Type0" {
		fi.std = std14Metrics(name)
	}
	if f.V.Key("Subtype").Name() == "Type0" {
		fi.twoByte = true
		desc := f.V.Key("DescendantFonts").Index(0)
		if dw := desc.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			fi.defaultWidth = dw.Float64()
		} else {
			fi.defaultWidth = 1000
		}
		fi.cidWidths = cidWidths(desc.Key("W"))
	}
	if cmapIsSafe(f.V.Key("ToUnicode")) {
		fi.enc = f.Encoder()
	}
	if fi.enc == nil {
		fi.enc = identityEncoding{}
	}
	fi.tu = parseToUnicode(f.V.Key("ToUnicode"))
	if !fi.twoByte {
		// The ToUnicode map first; then glyph names, from /Differences and,
		// without a map, from the embedded font's own encoding (reading the
		// font program costs a decompression, so only when needed).
		var names map[int]string
		if fi.tu == nil {
			names = builtinEncoding(f.V)
		}
		if names == nil {
			names = map[int]string{}
		}
		for code, n := range differencesNames(f.V.Key("Encoding")) {
			names[code] = n
		}
		for code := range 256 {
			if fi.tu != nil {
				if t, ok := fi.tu.lookup(uint32(code)); ok {
					fi.decoded[code], fi.known[code] = normalizeGlyph(t), true
					continue
				}
			}
			if n, ok := names[code]; ok {
				if t, ok := glyphText(n); ok {
					fi.decoded[code], fi.known[code] = normalizeGlyph(t), true
				}
			}
		}
	}
	return fi
}

type identityEncoding struct{}

func (identityEncoding) Decode(raw string) string { return raw }

// affine is a PDF transformation matrix [a b c d e f].
type affine [6]float64

var identity = affine{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m, then n).
func (m affine) mul(n affine) affine {
	return affine{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type textState struct {
	ctm, tm, tlm          affine
	tc, tw, th, tl, trise float64
	font                  *fontInfo
	size                  float64
}

// pageGlyphs interprets one page's content stream and returns its glyphs
// and how many images it draws. It is a small text-only interpreter: it
// decodes each character code on its own (ligature cmaps map one code to
// several runes), applies word spacing, and follows Form XObjects, in which
// some producers put a whole page's text.
//
// docFonts caches parsed fonts across pages by object reference.
func pageGlyphs(page pdf.Value, docFonts map[string]*fontInfo, budget *docBudget) (glyphs []glyph, images int) {
	contents := page.Key("Contents")
	if contents.IsNull() {
		return nil, 0
	}
	in := &interpreter{docFonts: docFonts, budget: budget, active: map[string]bool{}}
	in.run(contents, inheritedKey(page, "Resources"), identity, 0)
	return in.glyphs, in.images
}

// maxFormDepth bounds nested Form XObjects.
const maxFormDepth = 8

type interpreter struct {
	docFonts map[string]*fontInfo
	budget   *docBudget
	// pageBytes counts the page's decompressed content, forms included.
	pageBytes int64
	glyphs    []glyph
	images    int
	active    map[string]bool // forms being run, by reference: no cycles
}

// run interprets one content stream (a page's or a form's) with its
// resources, starting from the transformation ctm.
func (in *interpreter) run(contents, res pdf.Value, ctm affine, depth int) {
	fonts := map[string]*fontInfo{} // resource names are per content stream
	fontRes := res.Key("Font")
	refs := fontRefs(fontRes)
	xobjects := res.Key("XObject")
	xrefs := fontRefs(xobjects)
	g := textState{ctm: ctm, tm: identity, tlm: identity, th: 1}
	var stack []textState
	show := func(raw string) {
		f := g.font
		if f == nil {
			return
		}
		step := 1
		if f.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(raw); i += step {
			code := int(raw[i])
			if step == 2 {
				code = code<<8 | int(raw[i+1])
			}
			trm := affine{g.size * g.th, 0, 0, g.size, 0, g.trise}.mul(g.tm).mul(g.ctm)
			w0 := f.width(code) * f.widthScale / 1000
			s := f.decode(code)
			size := math.Hypot(trm[2], trm[3])
			// Rotated text (arXiv's margin stamp, rotated table headers) is
			// not part of the reading flow: keep horizontal glyphs only.
			if s != "" && math.Abs(trm[1]) <= 0.05*math.Abs(trm[0]) && math.Abs(trm[2]) <= 0.05*math.Abs(trm[3]) {
				if len(in.glyphs)%4096 == 0 && in.budget.glyphs.Add(-4096) < 0 {
					panic(errTooManyGlyphs)
				}
				in.glyphs = append(in.glyphs, glyph{x: trm[4], y: trm[5], w: w0 * math.Hypot(trm[0], trm[1]), size: size, s: s, font: f})
			}
			tx := w0*g.size + g.tc
			if step == 1 && code == 32 {
				tx += g.tw
			}
			g.tm = affine{1, 0, 0, 1, tx * g.th, 0}.mul(g.tm)
		}
	}
	data, err := readContent(contents, in.budget, maxContentBytes-in.pageBytes)
	if err != nil {
		panic(err)
	}
	in.pageBytes += int64(len(data))
	num := func(o operand) float64 {
		if o.kind != 'n' || math.IsNaN(o.num) || math.IsInf(o.num, 0) {
			return 0
		}
		return o.num
	}
	lexContent(data, func(op string, args []operand) {
		// An operator takes the last operands before it: stray ones left
		// by an unknown operator ("bcolor [0]" from a color-marks package,
		// which pdftotext reports as a syntax error) must not void the
		// next "1 0 0 1 x y cm".
		if k, ok := operatorArity[op]; ok && len(args) > k {
			args = args[len(args)-k:]
		}
		n := len(args)
		switch op {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, g)
			}
		case "Q":
			if len(stack) > 0 {
				g = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if n == 6 {
				g.ctm = affine{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}.mul(g.ctm)
			}
		case "BT":
			g.tm, g.tlm = identity, identity
		case "Tc":
			if n == 1 {
				g.tc = num(args[0])
			}
		case "Tw":
			if n == 1 {
				g.tw = num(args[0])
			}
		case "Tz":
			if n == 1 {
				g.th = num(args[0]) / 100
			}
		case "TL":
			if n == 1 {
				g.tl = num(args[0])
			}
		case "Ts":
			if n == 1 {
				g.trise = num(args[0])
			}
		case "Tf":
			if n == 2 && args[0].kind == '/' {
				name := args[0].str
				f, ok := fonts[name]
				if !ok {
					ref := refs[name]
					if f, ok = in.docFonts[ref]; !ok || ref == "" {
						f = newFontInfo(pdf.Font{V: fontRes.Key(name)})
						if ref != "" {
							in.docFonts[ref] = f
						}
					}
					fonts[name] = f
				}
				g.font, g.size = f, num(args[1])
			}
		case "Td", "TD":
			if n == 2 {
				if op == "TD" {
					g.tl = -num(args[1])
				}
				g.tlm = affine{1, 0, 0, 1, num(args[0]), num(args[1])}.mul(g.tlm)
				g.tm = g.tlm
			}
		case "Tm":
			if n == 6 {
				g.tlm = affine{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}
				g.tm = g.tlm
			}
		case "T*":
			g.tlm = affine{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
			g.tm = g.tlm
		case "Tj":
			if n == 1 && args[0].kind == 's' {
				show(args[0].str)
			}
		case "'", "\"":
			if op == "\"" && n == 3 {
				g.tw, g.tc = num(args[0]), num(args[1])
				args = args[2:]
			}
			g.tlm = affine{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
			g.tm = g.tlm
			if len(args) == 1 && args[0].kind == 's' {
				show(args[0].str)
			}
		case "TJ":
			if n != 1 || args[0].kind != '[' {
				return
			}
			for _, x := range args[0].arr {
				switch x.kind {
				case 's':
					show(x.str)
				case 'n':
					g.tm = affine{1, 0, 0, 1, -num(x) / 1000 * g.size * g.th, 0}.mul(g.tm)
				}
			}
		case "Do":
			if n != 1 || args[0].kind != '/' {
				return
			}
			x := xobjects.Key(args[0].str)
			switch x.Key("Subtype").Name() {
			case "Image":
				in.images++
			case "Form":
				ref := xrefs[args[0].str]
				if depth >= maxFormDepth || ref == "" || in.active[ref] {
					return
				}
				m := identity
				if mv := x.Key("Matrix"); mv.Len() == 6 {
					for k := range 6 {
						if f := mv.Index(k).Float64(); !math.IsNaN(f) && !math.IsInf(f, 0) {
							m[k] = f
						}
					}
				}
				formRes := x.Key("Resources")
				if formRes.Kind() != pdf.Dict {
					formRes = res
				}
				in.active[ref] = true
				in.run(x, formRes, m.mul(g.ctm), depth+1)
				delete(in.active, ref)
			}
		case "BI":
			in.images++
		}
	})
}

// operatorArity is how many operands the text and state operators that
// pageGlyphs interprets take.
var operatorArity = map[string]int{
	"cm": 6, "Tm": 6, "Td": 2, "TD": 2, "Tf": 2, "Tc": 1, "Tw": 1, "Tz": 1, "TL": 1, "Ts": 1,
	"Tj": 1, "TJ": 1, "'": 1, "\"": 3, "Do": 1, "q": 0, "Q": 0, "BT": 0, "T*": 0,
}

var fontRefRE = regexp.MustCompile(`/([^\s/<>\[\]()]+) (\d+ \d+ R)`)

// fontRefs maps a resource dictionary's names to their object references
// ("F8" → "9 0 R"), read from the dictionary's printed form: the library
// gives no other access to references. With them a font used on every page
// is parsed once instead of on every page (a font dictionary inside a
// compressed object stream costs a whole stream decompression to reach),
// and a form that draws itself is caught.
func fontRefs(fontRes pdf.Value) map[string]string {
	refs := map[string]string{}
	if fontRes.Kind() != pdf.Dict {
		return refs
	}
	for _, m := range fontRefRE.FindAllStringSubmatch(fontRes.String(), -1) {
		refs[m[1]] = m[2]
	}
	return refs
}

var errTooManyGlyphs = errors.New("too much text (over 20 million glyphs)")

// inheritedKey looks a page attribute up the page tree (MediaBox and
// Resources may be set on an ancestor).
func inheritedKey(page pdf.Value, key string) pdf.Value {
	v := page
	for depth := 0; depth < 32 && !v.IsNull(); depth++ {
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// pageList walks the page tree with a depth limit and a node budget: the
// library's own Page(n) loops forever on a tree whose Kids point back up.
func pageList(root pdf.Value, limit int) ([]pdf.Value, error) {
	var pages []pdf.Value
	nodes := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		nodes++
		if depth > 32 || nodes > 4*limit+64 {
			return fmt.Errorf("%w: page tree is cyclic or too deep", ErrMalformed)
		}
		switch v.Key("Type").Name() {
		case "Page":
			pages = append(pages, v)
			if len(pages) > limit {
				return fmt.Errorf("%w: more than %d pages", ErrTooLarge, limit)
			}
		default: // "Pages", or a broken node with Kids
			kids := v.Key("Kids")
			if kids.Kind() != pdf.Array && v.Key("Contents").Kind() != pdf.Null {
				pages = append(pages, v) // a page missing its /Type
				return nil
			}
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(root, 0)
	return pages, err
}

func mediaBox(page pdf.Value) (w, h float64) {
	mb := inheritedKey(page, "MediaBox")
	if mb.Len() == 4 {
		w, h = mb.Index(2).Float64()-mb.Index(0).Float64(), mb.Index(3).Float64()-mb.Index(1).Float64()
	}
	if w <= 0 || h <= 0 || w > 20000 || h > 20000 {
		return 612, 792
	}
	return w, h
}

// pdfDoc is a PDF read into positioned lines.
type pdfDoc struct {
	pages    []pdfPage
	bodySize float64
	leading  float64
	// boldBody is set when body text itself is bold, so bold no longer
	// marks headings.
	boldBody bool
	// failed lists the pages that could not be read, with the reason.
	failed []string
}

// inferBoldness marks anonymous fonts (Type 3 bitmap fonts have no
// name to say "Bold") as bold when their lower-case letters are clearly
// wider than the body font's: bold cuts are about 10% wider.
func inferBoldness(pages [][]glyph) {
	type stat struct {
		n   int
		sum float64
	}
	stats := map[*fontInfo]*stat{}
	for _, gs := range pages {
		for _, g := range gs {
			if len(g.s) != 1 || g.s[0] < 'a' || g.s[0] > 'z' || g.size <= 0 || g.w <= 0 {
				continue
			}
			st := stats[g.font]
			if st == nil {
				st = &stat{}
				stats[g.font] = st
			}
			st.n++
			st.sum += g.w / g.size
		}
	}
	// The body font is the one with the most letters.
	var body *stat
	for _, st := range stats {
		if body == nil || st.n > body.n {
			body = st
		}
	}
	if body == nil {
		return
	}
	bodyMean := body.sum / float64(body.n)
	for f, st := range stats {
		if f.anonymous && !f.math && st != body && st.n >= 5 && st.sum/float64(st.n) > 1.06*bodyMean {
			f.bold = true
		}
	}
}

// boldShare is the fraction of body-size glyphs set in a bold font.
func boldShare(pages [][]glyph, body float64) float64 {
	var bold, n float64
	for _, gs := range pages {
		for _, g := range gs {
			if math.Abs(g.size-body) < 0.5 {
				n++
				if g.font.bold {
					bold++
				}
			}
		}
	}
	if n == 0 {
		return 0
	}
	return bold / n
}

type pdfPage struct {
	num           int
	width, height float64
	lines         []*line // in reading order
}

// readPDF opens data and lays every page out into lines in reading order.
// Panics from the PDF library are turned into errors naming the file.
func readPDF(name string, data []byte, opts Options) (doc *pdfDoc, err error) {
	base := filepath.Base(name)
	defer func() {
		if r := recover(); r != nil {
			doc = nil
			err = classifyPDFError(name, data, fmt.Errorf("%w: %v", ErrMalformed, r))
		}
	}()
	if int64(len(data)) > opts.maxBytes() {
		return nil, fmt.Errorf("paper: %s: %w (%d MiB > %d MiB)", name, ErrTooLarge, len(data)>>20, opts.maxBytes()>>20)
	}
	if maxNesting(data) > 5000 {
		return nil, fmt.Errorf("paper: %s: %w: arrays or dictionaries nested over 5000 deep", name, ErrMalformed)
	}
	if err := checkXrefSizes(data); err != nil {
		return nil, fmt.Errorf("paper: %s: %w", name, err)
	}
	if err := checkObjectStreams(data); err != nil {
		return nil, fmt.Errorf("paper: %s: %w", name, err)
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, classifyPDFError(name, data, err)
	}
	pages, err := pageList(r.Trailer().Key("Root").Key("Pages"), opts.maxPages())
	if err != nil {
		return nil, fmt.Errorf("paper: %s: %w", name, err)
	}
	if len(pages) == 0 {
		return nil, classifyPDFError(name, data, fmt.Errorf("%w: no pages", ErrMalformed))
	}
	doc = &pdfDoc{}
	budget := newDocBudget()
	all := make([][]glyph, len(pages))
	imgs := make([]int, len(pages))
	errs := make([]error, len(pages))
	// Pages are read in parallel: the library's Reader only reads its
	// immutable tables and an io.ReaderAt, and each worker keeps its own
	// font cache (fontInfo decodes lazily, so it is not shared).
	forEachPage(len(pages), func(worker, i int, fonts map[string]*fontInfo) {
		all[i], imgs[i], errs[i] = safePageGlyphs(pages[i], fonts, budget)
	})
	images, glyphCount := 0, 0
	var firstErr error
	for i, pv := range pages {
		if perr := errs[i]; perr != nil {
			if errors.Is(perr, errTooManyGlyphs) {
				return nil, fmt.Errorf("paper: %s: %w: %v", name, ErrTooLarge, perr)
			}
			if errors.Is(perr, ErrTooLarge) {
				// Not "malformed": the file may be fine, only too big to read.
				return nil, fmt.Errorf("paper: %s: page %d: %w", name, i+1, perr)
			}
			// One broken page leaves the others readable: the tree is
			// kept and marked partial (see Paper.Partial).
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: page %d of %s: %v", ErrMalformed, i+1, base, perr)
			}
			doc.failed = append(doc.failed, fmt.Sprintf("page %d (%v)", i+1, perr))
			all[i] = nil
		}
		images += imgs[i]
		glyphCount += len(all[i])
		w, h := mediaBox(pv)
		doc.pages = append(doc.pages, pdfPage{num: i + 1, width: w, height: h})
	}
	if len(doc.failed) == len(pages) || glyphCount == 0 && firstErr != nil {
		return nil, classifyPDFError(name, data, firstErr)
	}
	if glyphCount == 0 {
		if images > 0 {
			return nil, fmt.Errorf("paper: %s: %w (%d images, no text)", name, ErrNoText, images)
		}
		return nil, fmt.Errorf("paper: %s: %w (no text and no images: drawings only)", name, ErrNoText)
	}
	doc.bodySize = bodyFontSize(all)
	inferBoldness(all)
	doc.boldBody = boldShare(all, doc.bodySize) > 0.5
	layoutErrs := make([]error, len(doc.pages))
	frags := make([][]*fragment, len(doc.pages))
	gutters := make([]float64, len(doc.pages))
	twos := make([]bool, len(doc.pages))
	forEachPage(len(doc.pages), func(_, i int, _ map[string]*fontInfo) {
		defer func() {
			if r := recover(); r != nil {
				layoutErrs[i] = fmt.Errorf("%w: laying out page %d: %v", ErrMalformed, i+1, r)
			}
		}()
		frags[i] = fragments(all[i])
		gutters[i], twos[i] = findGutter(frags[i], doc.pages[i].width)
	})
	docGutter := documentGutter(gutters, twos)
	forEachPage(len(doc.pages), func(_, i int, _ map[string]*fontInfo) {
		defer func() {
			if r := recover(); r != nil {
				layoutErrs[i] = fmt.Errorf("%w: laying out page %d: %v", ErrMalformed, i+1, r)
			}
		}()
		g, two := gutters[i], twos[i]
		if !two && docGutter > 0 && columnsHold(frags[i], docGutter) {
			// A full-width float hides this page's gutter from findGutter;
			// the document's columns still hold below or above it.
			g, two = docGutter, true
		}
		doc.pages[i].lines = layoutPage(frags[i], g, two, doc.bodySize, i+1)
	})
	if err := errors.Join(layoutErrs...); err != nil {
		return nil, fmt.Errorf("paper: %s: %w", name, err)
	}
	doc.leading = medianLeading(doc)
	return doc, nil
}

// forEachPage runs fn for pages 0..n-1 on up to GOMAXPROCS workers and
// returns when all are done; each worker gets its own font cache.
func forEachPage(n int, fn func(worker, page int, fonts map[string]*fontInfo)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			fonts := map[string]*fontInfo{}
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(w, i, fonts)
			}
		})
	}
	wg.Wait()
}

func safePageGlyphs(pv pdf.Value, fonts map[string]*fontInfo, budget *docBudget) (gs []glyph, images int, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && (errors.Is(e, errTooManyGlyphs) || errors.Is(e, ErrTooLarge)) {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	gs, images = pageGlyphs(pv, fonts, budget)
	return gs, images, nil
}

// classifyPDFError maps library errors to the package's sentinel errors so
// that each broken-file case has its own message.
func classifyPDFError(name string, data []byte, err error) error {
	msg := err.Error()
	tail := data[max(0, len(data)-2048):]
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(msg, "encrypt") || bytes.Contains(data, []byte("/Encrypt")) && !bytes.Contains(data, []byte("/Encrypt null")):
		return fmt.Errorf("paper: %s: %w", name, ErrEncrypted)
	case !bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), 1024)], "\x00\t\r\n "), []byte("%PDF-")):
		return fmt.Errorf("paper: %s: %w: not a PDF file (no %%PDF- header)", name, ErrMalformed)
	case !bytes.Contains(tail, []byte("%%EOF")):
		return fmt.Errorf("paper: %s: %w", name, ErrTruncated)
	case errors.Is(err, ErrMalformed):
		return fmt.Errorf("paper: %s: %w", name, err)
	default:
		return fmt.Errorf("paper: %s: %w: %v", name, ErrMalformed, err)
	}
}

// bodyFontSize is the most common glyph size, rounded to half points.
func bodyFontSize(pages [][]glyph) float64 {
	counts := map[float64]int{}
	for _, gs := range pages {
		for _, g := range gs {
			counts[math.Round(g.size*2)/2]++
		}
	}
	best, bestN := 10.0, -1
	for s, n := range counts {
		if n > bestN || n == bestN && s < best {
			best, bestN = s, n
		}
	}
	if best <= 0 {
		return 10
	}
	return best
}

// cell is a run of glyphs on one baseline with no wide gap inside.
type cell struct {
	x0, x1, y float64
	first     glyph // its first glyph: font and raise of a leading mark
	text      string
	sb        strings.Builder
}

// line is one text line within a column: cells sorted by x.
type line struct {
	page       int
	y          float64
	x0, x1     float64
	size       float64 // dominant glyph size
	cells      []*cell
	col        int     // 0 one-column or left, 1 right, -1 spanning
	colX0      float64 // the column's left and right text edges
	colX1      float64
	bold, math float64 // fraction of glyphs
	text       string
	footnote   bool
	figure     bool // text inside a figure (see markFigureText)
	// boldPrefix is the length of the bold text the line starts with
	// (a run-in heading "3.1 Datasets." before plain prose); 0 if none.
	boldPrefix int
}

// fragment is glyphs in content-stream order that continue one another.
type fragment struct {
	glyphs []glyph
	x0, x1 float64
	y      float64
	size   float64
}

// layoutPage groups glyphs into lines and orders them for reading: two
// columns are detected from an empty vertical gutter near the middle of the
// page, and each band between full-width lines is read left column first.
func layoutPage(frags []*fragment, gutter float64, two bool, body float64, pageNum int) []*line {
	if len(frags) == 0 {
		return nil
	}
	// Split fragments that cross the gutter with a gap at it (producers
	// that write both columns' lines in one text object).
	if two {
		var split []*fragment
		for _, f := range frags {
			split = append(split, splitAtGutter(f, gutter)...)
		}
		frags = split
	}
	colOf := func(f *fragment) int {
		switch {
		case !two:
			return 0
		case f.x1 <= gutter+1:
			return 0
		case f.x0 >= gutter-1:
			return 1
		default:
			return -1
		}
	}
	byCol := map[int][]*fragment{}
	for _, f := range frags {
		c := colOf(f)
		byCol[c] = append(byCol[c], f)
	}
	var lines []*line
	for c, fs := range byCol {
		for _, l := range groupLines(fs, body) {
			l.col = c
			l.page = pageNum
			lines = append(lines, l)
		}
	}
	// Column edges: the typical left and right text edges of each column.
	for c := -1; c <= 1; c++ {
		var xs0, xs1 []float64
		for _, l := range lines {
			if l.col == c {
				xs0 = append(xs0, l.x0)
				xs1 = append(xs1, l.x1)
			}
		}
		if len(xs0) == 0 {
			continue
		}
		e0, e1 := percentile(xs0, 0.1), percentile(xs1, 0.9)
		for _, l := range lines {
			if l.col == c {
				l.colX0, l.colX1 = e0, e1
			}
		}
	}
	return readingOrder(lines)
}

// fragments cuts the glyph stream where the baseline jumps, the pen moves
// backwards, or a gap wider than three ems opens.
func fragments(gs []glyph) []*fragment {
	var out []*fragment
	var cur *fragment
	for _, g := range gs {
		if g.s == " " || strings.TrimSpace(g.s) == "" {
			if cur != nil {
				cur.glyphs = append(cur.glyphs, g) // an explicit space: keep for word breaks
			}
			continue
		}
		if cur != nil {
			last := cur.glyphs[len(cur.glyphs)-1]
			ref := math.Max(cur.size, g.size)
			dy := math.Abs(g.y - cur.y)
			gap := g.x - (last.x + last.w)
			if dy <= 0.5*ref && gap > -0.6*ref && gap < 3*ref {
				cur.glyphs = append(cur.glyphs, g)
				cur.x1 = math.Max(cur.x1, g.x+g.w)
				if g.size > cur.size {
					cur.size, cur.y = g.size, g.y
				}
				continue
			}
		}
		cur = &fragment{glyphs: []glyph{g}, x0: g.x, x1: g.x + g.w, y: g.y, size: g.size}
		out = append(out, cur)
	}
	return out
}

// findGutter looks for a vertical strip near the middle of the page that
// (almost) no fragment crosses while both sides hold plenty of text.
func findGutter(frags []*fragment, width float64) (float64, bool) {
	n := int(width) + 1
	cover := make([]int, n)
	var left, right, total int
	for _, f := range frags {
		a, b := max(0, int(f.x0)), min(n-1, int(f.x1))
		for x := a; x <= b; x++ {
			cover[x]++
		}
		total += len(f.glyphs)
	}
	maxCover := 0
	for _, c := range cover {
		maxCover = max(maxCover, c)
	}
	// Full-width lines (title, authors, wide figures) may cross the
	// gutter; body lines of a one-column page all do.
	limit := max(2, maxCover/5)
	bestStart, bestLen := -1, 0
	for x := int(0.3 * width); x < int(0.7*width); {
		if cover[x] > limit {
			x++
			continue
		}
		s := x
		for x < n && cover[x] <= limit {
			x++
		}
		if x-s > bestLen {
			bestStart, bestLen = s, x-s
		}
	}
	if bestLen < 4 {
		return 0, false
	}
	mid := float64(bestStart) + float64(bestLen)/2
	for _, f := range frags {
		switch {
		case f.x1 <= mid:
			left += len(f.glyphs)
		case f.x0 >= mid:
			right += len(f.glyphs)
		}
	}
	if left < total/5 || right < total/5 {
		return 0, false
	}
	return mid, true
}

// documentGutter is the gutter of a two-column document: the median of
// the pages' gutters when at least two pages and 40% of them have one;
// 0 for a one-column document.
func documentGutter(gutters []float64, twos []bool) float64 {
	var gs []float64
	for i, g := range gutters {
		if twos[i] {
			gs = append(gs, g)
		}
	}
	if len(gs) < 2 || 5*len(gs) < 2*len(gutters) {
		return 0
	}
	return percentile(gs, 0.5)
}

// columnsHold reports whether a page's text lies in two columns at the
// document's gutter: an eighth of its glyphs on each side in fragments
// that do not cross it. A one-column page's prose lines all cross it; a
// page with a full-width float above two columns has its columns below.
func columnsHold(frags []*fragment, gutter float64) bool {
	var left, right, total int
	for _, f := range frags {
		n := len(f.glyphs)
		total += n
		switch {
		case f.x1 <= gutter+1:
			left += n
		case f.x0 >= gutter-1:
			right += n
		}
	}
	return total > 0 && 8*left >= total && 8*right >= total
}

func splitAtGutter(f *fragment, gutter float64) []*fragment {
	if f.x0 >= gutter || f.x1 <= gutter {
		return []*fragment{f}
	}
	for i := 1; i < len(f.glyphs); i++ {
		a, b := f.glyphs[i-1], f.glyphs[i]
		if a.x+a.w <= gutter+1 && b.x >= gutter-1 && b.x-(a.x+a.w) > 0.5*f.size {
			return []*fragment{newFragment(f.glyphs[:i]), newFragment(f.glyphs[i:])}
		}
	}
	return []*fragment{f}
}

func newFragment(gs []glyph) *fragment {
	f := &fragment{glyphs: gs, x0: math.Inf(1), x1: math.Inf(-1)}
	for _, g := range gs {
		if strings.TrimSpace(g.s) == "" {
			continue
		}
		f.x0, f.x1 = math.Min(f.x0, g.x), math.Max(f.x1, g.x+g.w)
		if g.size > f.size {
			f.size, f.y = g.size, g.y
		}
	}
	return f
}

// groupLines merges fragments of one column whose baselines agree (a
// superscript or subscript joins its line) and cuts each line into cells at
// gaps of about an em — the gaps between table columns or before an
// equation number, wider than any justified word space.
func groupLines(fs []*fragment, body float64) []*line {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].size != fs[j].size {
			return fs[i].size > fs[j].size // big fragments anchor lines
		}
		return fs[i].y > fs[j].y
	})
	type proto struct {
		y, size float64
		frags   []*fragment
	}
	// Lines are found through buckets of baseline height, so a page of
	// n fragments costs O(n), not O(n·lines).
	const bucket = 2.0
	maxSize := 0.0
	for _, f := range fs {
		if f.size > maxSize && f.size < 200 {
			maxSize = f.size
		}
	}
	reach := int(math.Ceil(0.5*maxSize/bucket)) + 1
	index := map[int][]*proto{}
	key := func(y float64) int {
		if math.IsNaN(y) || math.Abs(y) > 1e6 {
			return math.MinInt32
		}
		return int(math.Floor(y / bucket))
	}
	var ps []*proto
	for _, f := range fs {
		var best *proto
		bestD := math.Inf(1)
		k := key(f.y)
		var near []*proto
		for b := k - reach; b <= k+reach; b++ {
			near = append(near, index[b]...)
		}
		for _, p := range near {
			d := f.y - p.y
			tolUp, tolDown := 0.25*p.size, 0.25*p.size
			if f.size < 0.9*p.size { // scripts sit above or below the baseline
				tolUp, tolDown = 0.5*p.size, 0.3*p.size
			}
			if d <= tolUp && -d <= tolDown && math.Abs(d) < bestD {
				best, bestD = p, math.Abs(d)
			}
		}
		if best == nil {
			best = &proto{y: f.y, size: f.size}
			ps = append(ps, best)
			index[k] = append(index[k], best)
		}
		best.frags = append(best.frags, f)
	}
	var out []*line
	for _, p := range ps {
		var gs []glyph
		for _, f := range p.frags {
			gs = append(gs, f.glyphs...)
		}
		sort.SliceStable(gs, func(i, j int) bool { return gs[i].x < gs[j].x })
		l := &line{y: p.y, size: p.size}
		out = append(out, buildLine(l, gs, body))
	}
	return out
}

// buildLine fills a line's cells and text from x-sorted glyphs. A word
// space is a gap over 0.15 em (TeX's interword space is 0.33 em and its
// kerns far smaller); a cell break is a gap over 0.9 em.
func buildLine(l *line, gs []glyph, body float64) *line {
	var cur *cell
	var text strings.Builder
	var bold, mathN, n float64
	lastEnd := math.Inf(-1)
	pendingSpace := false
	allBold := true
	for _, g := range gs {
		if strings.TrimSpace(g.s) == "" {
			pendingSpace = true
			continue
		}
		ref := math.Max(g.size, 0.8*l.size)
		gap := g.x - lastEnd
		if cur == nil || gap > 0.9*ref {
			cur = &cell{x0: g.x, y: l.y, first: g}
			l.cells = append(l.cells, cur)
			if text.Len() > 0 {
				text.WriteByte(' ')
			}
		} else if gap > 0.15*ref || pendingSpace {
			// An explicit space glyph counts whatever the geometry says:
			// fonts with missing widths misplace the pen.
			cur.sb.WriteByte(' ')
			text.WriteByte(' ')
		}
		pendingSpace = false
		cur.sb.WriteString(g.s)
		cur.x1 = math.Max(cur.x1, g.x+g.w)
		text.WriteString(g.s)
		lastEnd = math.Max(lastEnd, g.x+g.w)
		n++
		if g.font.bold {
			bold++
			if allBold {
				l.boldPrefix = text.Len()
			}
		} else {
			allBold = false
		}
		if g.font.math || isMathSymbol(g.s) {
			mathN++
		}
	}
	if len(l.cells) > 0 {
		l.x0, l.x1 = l.cells[0].x0, l.cells[len(l.cells)-1].x1
	}
	if n > 0 {
		l.bold, l.math = bold/n, mathN/n
	}
	if l.boldPrefix > 0 && l.boldPrefix < text.Len() {
		l.boldPrefix = len(combineDiacritics(text.String()[:l.boldPrefix]))
	}
	l.text = combineDiacritics(text.String())
	for _, c := range l.cells {
		c.text = combineDiacritics(c.sb.String())
		c.sb = strings.Builder{}
	}
	return l
}

// spacingAccents maps the spacing accents TeX draws over letters as
// separate glyphs to the combining marks they stand for. ASCII ^ ~ ` are
// left alone: in papers they are more often code or math than accents.
var spacingAccents = map[rune]rune{
	'¨': 0x308, '´': 0x301, 'ˆ': 0x302, '˜': 0x303, '¸': 0x327, 'ˇ': 0x30C,
	'˘': 0x306, '¯': 0x304, '˚': 0x30A, '˙': 0x307, '˝': 0x30B, '˛': 0x328,
}

// combineDiacritics composes accented letters: a spacing accent drawn
// next to its letter ("u¨ber", "Europa¨ische") or a combining mark set
// off by a space ("e ́") joins the letter, a dotless ı under an accent
// becomes i, and the result is NFC ("über", "Europäische").
func combineDiacritics(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < 0x80
	}
	if ascii {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		mark, isAccent := spacingAccents[r]
		switch {
		case isAccent && i+1 < len(rs) && rs[i+1] == 'ı': // \"\i: the accent is the dotless i's
			out = append(out, 'i', mark)
			i++
		case isAccent && len(out) > 0 && unicode.IsLetter(out[len(out)-1]):
			if out[len(out)-1] == 'ı' {
				out[len(out)-1] = 'i'
			}
			out = append(out, mark)
		case isAccent && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			base := rs[i+1]
			if base == 'ı' {
				base = 'i'
			}
			out = append(out, base, mark)
			i++
		case unicode.Is(unicode.Mn, r) && len(out) > 1 && out[len(out)-1] == ' ' && unicode.IsLetter(out[len(out)-2]):
			out[len(out)-1] = r // "e ́": the mark belongs to the letter before the space
		default:
			out = append(out, r)
		}
	}
	return norm.NFC.String(string(out))
}

func isMathSymbol(s string) bool {
	for _, r := range s {
		if strings.ContainsRune("=+−×·∑∏∫√≤≥≠≈∈∉⊂⊆∪∩∀∃∇∂∞±→←⇒⊙⊕⊗‖⊤", r) || unicode.Is(unicode.Greek, r) {
			return true
		}
	}
	return false
}

// readingOrder sorts lines top to bottom, and within each band between
// full-width (spanning) lines puts the left column before the right.
func readingOrder(lines []*line) []*line {
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].y != lines[j].y {
			return lines[i].y > lines[j].y
		}
		return lines[i].x0 < lines[j].x0
	})
	var out, left, right []*line
	flush := func() {
		out = append(out, left...)
		out = append(out, right...)
		left, right = nil, nil
	}
	for _, l := range lines {
		switch l.col {
		case -1:
			flush()
			out = append(out, l)
		case 1:
			right = append(right, l)
		default:
			left = append(left, l)
		}
	}
	flush()
	return out
}

func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// medianLeading is the typical baseline distance between consecutive body
// lines of a column.
func medianLeading(doc *pdfDoc) float64 {
	var ds []float64
	for _, p := range doc.pages {
		for i := 1; i < len(p.lines); i++ {
			a, b := p.lines[i-1], p.lines[i]
			if a.col == b.col && math.Abs(a.size-doc.bodySize) < 0.6 && math.Abs(b.size-doc.bodySize) < 0.6 {
				if d := a.y - b.y; d > 0.8*doc.bodySize && d < 3*doc.bodySize {
					ds = append(ds, d)
				}
			}
		}
	}
	if len(ds) == 0 {
		return 1.2 * doc.bodySize
	}
	return percentile(ds, 0.5)
}

// PDFText returns a PDF's text in reading order, one line per text line and
// a form feed after each page, like pdftotext. It is what Load parses.
func PDFText(name string, data []byte, opts Options) (string, error) {
	doc, err := readPDF(name, data, opts)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range doc.pages {
		for _, l := range p.lines {
			b.WriteString(l.text)
			b.WriteByte('\n')
		}
		b.WriteByte('\f')
	}
	return b.String(), nil
}
