package paper

import (
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/ledongthuc/pdf"
)

// TeX PDFs made without \pdfgentounicode carry no ToUnicode map: their
// Type 1 fonts use the encoding built into the embedded font program, whose
// glyph names ("fi", "alpha", "summationdisplay") say what each code is.
// builtinEncoding reads those names so ligatures, Greek and math symbols
// come out as pdftotext gives them instead of as control characters.

var glyphRunes = map[string]string{
	"space": " ", "exclam": "!", "quotedbl": "\"", "numbersign": "#", "dollar": "$", "percent": "%",
	"ampersand": "&", "quoteright": "\u2019", "quotesingle": "'", "parenleft": "(", "parenright": ")",
	"asterisk": "*", "plus": "+", "comma": ",", "hyphen": "-", "period": ".", "slash": "/",
	"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "colon": ":", "semicolon": ";", "less": "<",
	"equal": "=", "greater": ">", "question": "?", "at": "@", "bracketleft": "[",
	"backslash": "\\", "bracketright": "]", "asciicircum": "^", "underscore": "_",
	"quoteleft": "\u2018", "grave": "`", "braceleft": "{", "bar": "|", "braceright": "}",
	"asciitilde": "~", "quotedblleft": "\u201c", "quotedblright": "\u201d", "endash": "\u2013",
	"emdash": "\u2014", "exclamdown": "¡", "questiondown": "¿", "sterling": "£", "section": "§",
	"dagger": "†", "daggerdbl": "‡", "paragraph": "¶", "bullet": "•", "ellipsis": "…",
	"ff": "ff", "fi": "fi", "fl": "fl", "ffi": "ffi", "ffl": "ffl",
	"dotlessi": "ı", "dotlessj": "ȷ", "germandbls": "ß", "ae": "æ", "oe": "œ", "oslash": "ø",
	"AE": "Æ", "OE": "Œ", "Oslash": "Ø", "aring": "å", "Aring": "Å", "lslash": "ł", "Lslash": "Ł",
	"acute": "´", "caron": "ˇ", "breve": "˘", "macron": "¯", "ring": "˚", "cedilla": "¸",
	"tilde": "˜", "dieresis": "¨", "hungarumlaut": "˝", "dotaccent": "˙", "circumflex": "ˆ",
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "epsilon1": "ε",
	"zeta": "ζ", "eta": "η", "theta": "θ", "theta1": "ϑ", "iota": "ι", "kappa": "κ",
	"lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "pi1": "ϖ", "rho": "ρ",
	"rho1": "ϱ", "sigma": "σ", "sigma1": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
	"phi1": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
	"Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
	"Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "partialdiff": "∂", "lscript": "ℓ", "weierstrass": "℘",
	"minus": "−", "periodcentered": "·", "multiply": "×", "asteriskmath": "∗", "divide": "÷",
	"diamondmath": "⋄", "plusminus": "±", "minusplus": "∓", "circleplus": "⊕", "circleminus": "⊖",
	"circlemultiply": "⊗", "circledivide": "⊘", "circledot": "⊙", "circlecopyrt": "○",
	"openbullet": "◦", "equivasymptotic": "≍", "equivalence": "≡", "reflexsubset": "⊆",
	"reflexsuperset": "⊇", "lessequal": "≤", "greaterequal": "≥", "precedesequal": "⪯",
	"followsequal": "⪰", "similar": "∼", "approxequal": "≈", "propersubset": "⊂",
	"propersuperset": "⊃", "lessmuch": "≪", "greatermuch": "≫", "precedes": "≺", "follows": "≻",
	"arrowleft": "←", "arrowright": "→", "arrowup": "↑", "arrowdown": "↓", "arrowboth": "↔",
	"arrownortheast": "↗", "arrowsoutheast": "↘", "similarequal": "≃", "arrowdblleft": "⇐",
	"arrowdblright": "⇒", "arrowdblup": "⇑", "arrowdbldown": "⇓", "arrowdblboth": "⇔",
	"arrownorthwest": "↖", "arrowsouthwest": "↙", "proportional": "∝", "prime": "′",
	"infinity": "∞", "element": "∈", "owner": "∋", "triangle": "△", "triangleinv": "▽",
	"negationslash": "/", "mapsto": "↦", "universal": "∀", "existential": "∃", "logicalnot": "¬",
	"emptyset": "∅", "Rfractur": "ℜ", "Ifractur": "ℑ", "latticetop": "⊤", "perpendicular": "⊥",
	"aleph": "ℵ", "union": "∪", "intersection": "∩", "unionmulti": "⊎", "logicaland": "∧",
	"logicalor": "∨", "turnstileleft": "⊢", "turnstileright": "⊣", "floorleft": "⌊",
	"floorright": "⌋", "ceilingleft": "⌈", "ceilingright": "⌉", "angbracketleft": "⟨",
	"angbracketright": "⟩", "bardbl": "‖", "arrowbothv": "↕", "arrowdblbothv": "⇕",
	"wreathproduct": "≀", "radical": "√", "coproduct": "∐", "nabla": "∇", "integral": "∫",
	"unionsq": "⊔", "intersectionsq": "⊓", "subsetsqequal": "⊑", "supersetsqequal": "⊒",
	"club": "♣", "diamond": "♢", "heart": "♡", "spade": "♠", "arrowhookleft": "↩",
	"arrowhookright": "↪", "harpoonleftup": "↼", "harpoonrightup": "⇀", "star": "⋆",
	"slurbelow": "⌣", "slurabove": "⌢", "flat": "♭", "natural": "♮", "sharp": "♯",
	"dotmath": "⋅", "summation": "∑", "product": "∏", "contintegral": "∮",
}

// bigGlyphPrefixes map TeX's extensible CMEX glyphs ("summationdisplay",
// "parenleftbigg") by their prefix.
var bigGlyphPrefixes = []struct{ prefix, text string }{
	{"summation", "∑"}, {"product", "∏"}, {"coproduct", "∐"}, {"integral", "∫"},
	{"contintegral", "∮"}, {"radical", "√"}, {"parenleft", "("}, {"parenright", ")"},
	{"bracketleft", "["}, {"bracketright", "]"}, {"braceleft", "{"}, {"braceright", "}"},
	{"angbracketleft", "⟨"}, {"angbracketright", "⟩"}, {"floorleft", "⌊"}, {"floorright", "⌋"},
	{"ceilingleft", "⌈"}, {"ceilingright", "⌉"}, {"union", "∪"}, {"intersection", "∩"},
	{"circleplus", "⊕"}, {"circlemultiply", "⊗"}, {"circledot", "⊙"}, {"logicaland", "∧"},
	{"logicalor", "∨"}, {"bardbl", "‖"}, {"slash", "/"}, {"backslash", "\\"},
	{"hat", "^"}, {"tilde", "~"},
}

// glyphText maps a glyph name to text; ok is false for unknown names.
func glyphText(name string) (string, bool) {
	if t, ok := glyphRunes[name]; ok {
		return t, true
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return name, true
	}
	if strings.HasPrefix(name, "uni") && len(name) == 7 {
		if r, err := strconv.ParseUint(name[3:], 16, 32); err == nil {
			return string(rune(r)), true
		}
	}
	if strings.HasPrefix(name, "u") && len(name) >= 5 && len(name) <= 7 {
		if r, err := strconv.ParseUint(name[1:], 16, 32); err == nil && r <= 0x10FFFF {
			return string(rune(r)), true
		}
	}
	// Variants ("summation.v1", "one.st", "a.sc") name their base glyph
	// before the first period.
	if i := strings.IndexByte(name, '.'); i > 0 {
		return glyphText(name[:i])
	}
	for _, p := range bigGlyphPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.text, true
		}
	}
	return "", false
}

var dupPutRE = regexp.MustCompile(`dup\s+(\d{1,3})\s*/([A-Za-z0-9_.]+)\s+put`)

// builtinEncoding reads the code → glyph-name table of an embedded Type 1
// font program (the cleartext part before eexec), or nil.
func builtinEncoding(font pdf.Value) (names map[int]string) {
	defer func() {
		if recover() != nil {
			names = nil
		}
	}()
	ff := font.Key("FontDescriptor").Key("FontFile")
	if ff.Kind() != pdf.Stream {
		return nil
	}
	rc := ff.Reader()
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, 64<<10))
	if err != nil && len(head) == 0 {
		return nil
	}
	text := string(head)
	if i := strings.Index(text, "eexec"); i >= 0 {
		text = text[:i]
	}
	if !strings.Contains(text, "/Encoding") || strings.Contains(text, "/Encoding StandardEncoding") {
		return nil
	}
	names = map[int]string{}
	for _, m := range dupPutRE.FindAllStringSubmatch(text, -1) {
		code, _ := strconv.Atoi(m[1])
		if code < 256 {
			names[code] = m[2]
		}
	}
	return names
}

// differencesNames reads an /Encoding dictionary's /Differences array.
func differencesNames(enc pdf.Value) map[int]string {
	d := enc.Key("Differences")
	if d.Kind() != pdf.Array {
		return nil
	}
	names := map[int]string{}
	code := 0
	for i := 0; i < d.Len() && i < 1024; i++ {
		v := d.Index(i)
		switch v.Kind() {
		case pdf.Integer:
			code = int(v.Int64())
		case pdf.Name:
			if code >= 0 && code < 256 {
				names[code] = v.Name()
			}
			code++
		}
	}
	return names
}
