package rag

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultOfflineDim is the offline embedder's default vector length.
const DefaultOfflineDim = 384

// Offline is the embedder that needs no server: a hashed bag of words, word
// bigrams and character 4-grams ("feature hashing"), weighted by sublinear
// term frequency on the document side and by TF-IDF on the query side, and
// L2-normalised. It is deterministic, so an index built on one machine reads
// the same on another.
//
// Inverse document frequencies come from the index's own chunks. They are
// applied to the query vector only (squared, which makes the dot product the
// TF-IDF score up to document length normalisation); document vectors depend
// on nothing but their text, so adding files never forces re-embedding the
// unchanged ones. The zero value is not usable; call NewOffline.
type Offline struct {
	dim int
}

// NewOffline returns an offline embedder producing dim-dimensional vectors
// (DefaultOfflineDim when dim <= 0).
func NewOffline(dim int) *Offline {
	if dim <= 0 {
		dim = DefaultOfflineDim
	}
	return &Offline{dim: dim}
}

// Name implements Embedder. The version suffix changes whenever features,
// weights or hashing change, so old indexes are rejected instead of misread.
func (o *Offline) Name() string { return "offline-ngram-v1" }

// Dim implements Embedder.
func (o *Offline) Dim() int { return o.dim }

// Embed implements Embedder: document vectors (sublinear TF, no IDF).
func (o *Offline) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var fs []feature
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("offline embedder: %w", err)
		}
		fs = extractFeatures(t, fs[:0])
		out[i] = o.vector(fs, nil)
	}
	return out, nil
}

// embedQuery returns the query vector for text, weighted by the inverse
// document frequencies in df (nil or empty: plain TF).
func (o *Offline) embedQuery(text string, df *docFreq) []float32 {
	fs := extractFeatures(text, nil)
	if df == nil || df.N == 0 {
		df = nil
	}
	return o.vector(fs, df)
}

// terms returns the distinct feature hashes of text, for document
// frequencies.
func (o *Offline) terms(text string) []uint64 {
	fs := extractFeatures(text, nil)
	hs := make([]uint64, len(fs))
	for i, f := range fs {
		hs[i] = f.hash
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// vector folds features into a normalised dim-long vector. fs is sorted by
// hash in place so equal features are counted together.
func (o *Offline) vector(fs []feature, df *docFreq) []float32 {
	v := make([]float32, o.dim)
	slices.SortFunc(fs, func(a, b feature) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j].hash == fs[i].hash {
			j++
		}
		h, weight := fs[i].hash, fs[i].weight*(1+float32(math.Log(float64(j-i))))
		i = j
		if df != nil {
			idf, seen := df.idf(h)
			if !seen {
				// A feature no chunk has can only match through hash
				// collisions: pure noise, and at the highest IDF.
				continue
			}
			weight *= idf * idf
		}
		bucket := int(h % uint64(o.dim))
		if h>>63 == 1 {
			weight = -weight
		}
		v[bucket] += weight
	}
	normalize(v)
	return v
}

// feature is one hashed occurrence of a word, bigram or character n-gram.
type feature struct {
	hash   uint64
	weight float32
}

// Feature kinds and their weights: whole words carry the meaning, bigrams
// keep phrases ("learning rate") together, and character 4-grams let
// "normalise", "normalization" and "LayerNorm" meet.
const (
	kindWord     = 'w'
	kindBigram   = 'b'
	kindCharGram = 'c'

	weightWord     = 1.0
	weightBigram   = 0.7
	weightCharGram = 0.25
	charGramSize   = 4
)

// extractFeatures appends the features of text to fs.
func extractFeatures(text string, fs []feature) []feature {
	prev := ""
	forEachWord(text, func(raw string) {
		if stopWords[raw] {
			return
		}
		stem := stemWord(raw)
		fs = append(fs, feature{featureHash(kindWord, stem, ""), weightWord})
		if prev != "" {
			fs = append(fs, feature{featureHash(kindBigram, prev, stem), weightBigram})
		}
		prev = stem
		if utf8.RuneCountInString(raw) >= charGramSize {
			fs = appendCharGrams(fs, raw)
		}
	})
	return fs
}

// appendCharGrams adds the character n-grams of "^word$".
func appendCharGrams(fs []feature, word string) []feature {
	runes := make([]rune, 0, len(word)+2)
	runes = append(runes, '^')
	runes = append(runes, []rune(word)...)
	runes = append(runes, '$')
	var buf [charGramSize * utf8.UTFMax]byte
	for i := 0; i+charGramSize <= len(runes); i++ {
		b := buf[:0]
		for _, r := range runes[i : i+charGramSize] {
			b = utf8.AppendRune(b, r)
		}
		fs = append(fs, feature{featureHashBytes(kindCharGram, b), weightCharGram})
	}
	return fs
}

// forEachWord calls fn with each lower-cased word of text. Words are runs of
// letters and digits; identifiers are also split at underscores and at
// lower-to-upper case changes ("learningRate", "learning_rate" → "learning",
// "rate"), so prose and code share a vocabulary. LaTeX commands lose their
// backslash ("\alpha" → "alpha").
func forEachWord(text string, fn func(string)) {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			fn(b.String())
			b.Reset()
		}
	}
	prevLower := false
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
			b.WriteRune(unicode.ToLower(r))
		default:
			prevLower = false
			flush()
		}
	}
	flush()
}

// stemWord strips common English inflections so that "scheduled",
// "schedules" and "scheduling" share a feature. It is deliberately crude:
// character n-grams catch what it misses.
func stemWord(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	switch {
	case (strings.HasSuffix(w, "ization") || strings.HasSuffix(w, "isation")) && len(w) > 8:
		w = w[:len(w)-5]
	case strings.HasSuffix(w, "ation") && len(w) > 7:
		w = w[:len(w)-5]
	case strings.HasSuffix(w, "ing") && len(w) > 5:
		w = w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 4:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	}
	if len(w) > 4 {
		w = strings.TrimSuffix(w, "e")
	}
	// "normalis"/"normaliz": British and American spellings meet.
	if len(w) > 5 && strings.HasSuffix(w, "is") {
		w = w[:len(w)-1] + "z"
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the of in on for to and or is are was were be been being by with as at
		from that this these those it its we our us you your they them their there then than which what
		how why when where who whom does do did done can could should would will shall may might must
		into onto not no nor but if so such each also both all any some only very more most other
		about above below over under between through during before after again further here once
		has have had having i he she his her my me s t`) {
		m[w] = true
	}
	return m
}()

// featureHash hashes a feature kind and up to two words (FNV-1a, 64 bits,
// then a finaliser so both the bucket and the sign bits are well mixed).
func featureHash(kind byte, a, b string) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * 1099511628211
	}
	if b != "" {
		h = (h ^ ' ') * 1099511628211
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * 1099511628211
		}
	}
	return mix64(h)
}

func featureHashBytes(kind byte, s []byte) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for _, c := range s {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return mix64(h)
}

// mix64 is the splitmix64 finaliser.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// docFreq counts, per hashed feature, how many chunks of the index contain
// it. Counts live in a fixed table of 2^dfBits slots (4 MiB) rather than a
// map, so memory does not grow with the vocabulary; two features sharing a
// slot only blur their IDF a little.
type docFreq struct {
	N      int64 // chunks counted
	counts []uint32
}

const dfBits = 20

func newDocFreq() *docFreq { return &docFreq{counts: make([]uint32, 1<<dfBits)} }

func dfSlot(h uint64) uint64 { return h >> (64 - dfBits) }

// add counts (delta = +1) or uncounts (delta = -1) one chunk's distinct terms.
func (d *docFreq) add(terms []uint64, delta int) {
	d.N += int64(delta)
	for _, h := range terms {
		c := &d.counts[dfSlot(h)]
		switch {
		case delta > 0:
			*c++
		case *c > 0:
			*c--
		}
	}
	if d.N < 0 {
		d.N = 0
	}
}

// idf returns ln((N+1)/df) and whether any chunk has the feature.
func (d *docFreq) idf(h uint64) (float32, bool) {
	c := d.counts[dfSlot(h)]
	if c == 0 {
		return 0, false
	}
	return float32(math.Log(float64(d.N+1) / float64(c))), true
}
